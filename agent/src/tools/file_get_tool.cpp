// `tether get S-1 REMOTE LOCAL` on the agent: sends a file from the allowed folder, from the
// offset the technician already has when the file is still the one those bytes came from,
// and closes with the SHA-256 of the whole file (the part the technician had included) so
// the console can check what it assembled (tools/file_transfer.hpp has the wire).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tether/agent/tools/tool.hpp"
#include "tools/file_transfer.hpp"
#include "tools/transfer_tool.hpp"

namespace tether::agent {

namespace asio = boost::asio;
using json = nlohmann::json;
using tools::TransferFailure;

namespace {

// Set when the console says "start" or the channel closes; the agent waits for it so no data
// frame can overtake the channel_accept on its way to the console.
struct StartSignal {
  explicit StartSignal(asio::any_io_executor e) : timer(std::move(e)) {}
  asio::steady_timer timer;
  bool started = false;
};

asio::awaitable<void> wait_for_start(std::shared_ptr<protocol::Channel> channel,
                                     std::shared_ptr<StartSignal> signal) {
  channel->on_control = [signal](const json& control) {
    if (control.is_object() && control.value("start", false)) {
      signal->started = true;
      signal->timer.cancel();
    }
  };
  asio::co_spawn(
      signal->timer.get_executor(),
      [channel, signal]() -> asio::awaitable<void> {
        co_await channel->wait_closed();
        signal->timer.cancel();
      },
      asio::detached);
  while (!signal->started && !channel->closed()) {
    signal->timer.expires_at(asio::steady_timer::time_point::max());
    co_await signal->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  channel->on_control = nullptr;
}

asio::awaitable<void> send_download(const protocol::ChannelOpen& open, ToolContext& context,
                                    const tools::GetRequest& request,
                                    std::shared_ptr<protocol::Channel>& accepted) {
  tools::DiskWorker worker(context.executor);
  auto source = co_await tools::prepare_in_files_root(
      worker, open, context, [&](const tools::AllowedRoot& root) {
        return tools::prepare_get(root, request, context.settings->max_file_bytes);
      });
  if (!source) co_return;
  const std::uint64_t size = source->size;
  const std::uint64_t offset = tools::get_resume_offset(request, size, source->mtime_ns);
  auto channel = context.mux->accept(
      open, protocol::kInteractiveChannelWindow,
      {{"size", size}, {"mtime", source->mtime_ns}, {"offset", offset}, {"path", source->display}});
  if (!channel) co_return;
  accepted = *channel;
  co_await wait_for_start(accepted, std::make_shared<StartSignal>(context.executor));
  if (accepted->closed()) co_return;
  const std::string what = source->display + " (" + tools::size_text(size) + ")";
  context.notify("The technician is downloading " + what +
                 (offset > 0 ? ", resuming at " + tools::size_text(offset) : "") + ".");

  // Double buffering: the worker reads and hashes the next chunk while this thread hands the
  // current one to the channel. The part the technician already has is hashed first.
  protocol::Sha256Digest digest;
  const int fd = source->file.get();
  std::string buffers[2];
  int current = 0;
  std::uint64_t position = offset;
  auto chunk_at = [size](std::uint64_t at) {
    return static_cast<std::size_t>(std::min<std::uint64_t>(tools::kTransferChunkBytes, size - at));
  };
  std::optional<tools::PathError> failure;
  bool stopped = false;
  try {
    worker.start([&digest, fd, offset, length = chunk_at(offset), &buffer = buffers[0]] {
      tools::hash_range(fd, 0, offset, digest);
      if (length > 0) tools::read_chunk(fd, offset, length, buffer, digest);
    });
    while (position < size) {
      co_await worker.wait();
      const std::uint64_t next = position + buffers[current].size();
      if (next < size) {
        worker.start([&digest, fd, next, length = chunk_at(next), &buffer = buffers[1 - current]] {
          tools::read_chunk(fd, next, length, buffer, digest);
        });
      }
      if (!co_await accepted->write(buffers[current])) {
        stopped = true;
        break;
      }
      position = next;
      current = 1 - current;
    }
    co_await worker.wait();
  } catch (const TransferFailure& e) {
    failure = e.error;
  }
  if (failure) {
    accepted->close(failure->message, json::object(), failure->code);
    context.notify("The download of " + what + " failed: " + failure->message);
    co_return;
  }
  if (stopped || accepted->closed()) {
    context.notify("The download of " + what + " stopped at " + tools::size_text(position) + ".");
    co_return;
  }
  accepted->send_eof();
  accepted->close("sent", {{"path", source->display},
                           {"size", size},
                           {"sha256", digest.hex()},
                           {"resumed_from", offset}});
  context.notify("The technician downloaded " + what + ".");
}

}  // namespace

asio::awaitable<void> run_file_get_tool(protocol::ChannelOpen open, ToolContext context) {
  co_await tools::run_transfer(open, context, "download", tools::parse_get_params(open.params),
                               send_download);
}

}  // namespace tether::agent
