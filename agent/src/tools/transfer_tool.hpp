#pragma once
/// What the file.put and file.get handlers (file_put_tool.cpp, file_get_tool.cpp) share around
/// the channel: preparing the file on the disk worker, and turning a failure nobody expected
/// into one line for the technician. tools/file_transfer.hpp has the wire and the disk steps.

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "tether/agent/tools/tool.hpp"
#include "tools/file_transfer.hpp"

namespace tether::agent::tools {

/// Opens the allowed folder (`context.settings->files_root`) and runs `prepare` on it, both on
/// `worker`; refuses `open` with the PathError when either fails. Returns what `prepare` made,
/// or nothing after a refusal. `prepare` is called as PathResult<T>(const AllowedRoot&) on the
/// worker thread. An exception from either step propagates (see run_transfer).
template <class Prepare>
boost::asio::awaitable<
    std::optional<typename std::invoke_result_t<Prepare&, const AllowedRoot&>::value_type>>
prepare_in_files_root(DiskWorker& worker, const protocol::ChannelOpen& open, ToolContext& context,
                      Prepare prepare) {
  using Prepared = typename std::invoke_result_t<Prepare&, const AllowedRoot&>::value_type;
  std::optional<Prepared> prepared;
  std::optional<PathError> refusal;
  co_await worker.run([&] {
    auto root = AllowedRoot::open(context.settings->files_root.string());
    if (!root) {
      refusal = root.error();
      return;
    }
    auto made = prepare(*root);
    if (!made) {
      refusal = made.error();
      return;
    }
    prepared.emplace(std::move(*made));
  });
  if (refusal) context.mux->refuse(open, refusal->code, refusal->message);
  co_return prepared;
}

/// A transfer's work once its params are checked: accepts `open` (and sets `accepted` to the
/// channel) or refuses it, moves the file and closes the channel with the result.
template <class Request>
using TransferBody = boost::asio::awaitable<void> (*)(const protocol::ChannelOpen& open,
                                                      ToolContext& context, const Request& request,
                                                      std::shared_ptr<protocol::Channel>& accepted);

/// A file.put or file.get handler: refuses `open` when its checked params `request` are an
/// error, else runs `body`, answering an exception it lets escape with internal and "the
/// <action> failed on the PC: <what>" (the channel is closed with that once `body` accepted it,
/// else `open` is refused). `action` is "upload" or "download".
template <class Request>
boost::asio::awaitable<void> run_transfer(const protocol::ChannelOpen& open, ToolContext& context,
                                          std::string_view action, PathResult<Request> request,
                                          TransferBody<Request> body) {
  if (!request) {
    context.mux->refuse(open, request.error().code, request.error().message);
    co_return;
  }
  std::shared_ptr<protocol::Channel> channel;
  std::string unexpected;
  try {
    co_await body(open, context, *request, channel);
  } catch (const std::exception& e) {
    unexpected = e.what();
  }
  if (!unexpected.empty()) {
    const std::string reason = "the " + std::string(action) + " failed on the PC: " + unexpected;
    if (channel) {
      channel->close(reason, nlohmann::json::object(), protocol::Error::internal);
    } else {
      context.mux->refuse(open, protocol::Error::internal, reason);
    }
  }
}

}  // namespace tether::agent::tools
