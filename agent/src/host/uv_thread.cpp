#include "tether/agent/uv_thread.hpp"

#include <uv.h>

#include <stdexcept>

namespace tether::agent {

UvThread::UvThread()
    : loop_(std::make_unique<uv_loop_t>()), wakeup_(std::make_unique<uv_async_t>()) {
  if (uv_loop_init(loop_.get()) != 0) throw std::runtime_error("libuv: cannot create a loop");
  wakeup_->data = this;
  uv_async_init(loop_.get(), wakeup_.get(), &UvThread::on_async);
  thread_ = std::thread([this] { uv_run(loop_.get(), UV_RUN_DEFAULT); });
}

UvThread::~UvThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  uv_async_send(wakeup_.get());
  thread_.join();
  uv_loop_close(loop_.get());
}

void UvThread::submit(std::unique_ptr<TaskBase> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    queue_.push_back(std::move(task));
  }
  uv_async_send(wakeup_.get());
}

// Runs on the loop thread: uv_async_send coalesces wake-ups, so drain everything queued.
void UvThread::on_async(uv_async_t* handle) {
  auto* self = static_cast<UvThread*>(handle->data);
  std::vector<std::unique_ptr<TaskBase>> batch;
  bool stopping = false;
  {
    std::lock_guard lock(self->mutex_);
    batch.swap(self->queue_);
    stopping = self->stopping_;
  }
  for (auto& task : batch) task->run();
  if (stopping) uv_close(reinterpret_cast<uv_handle_t*>(handle), nullptr);
}

}  // namespace tether::agent
