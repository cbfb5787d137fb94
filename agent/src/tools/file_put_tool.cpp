// `tether put S-1 LOCAL REMOTE` on the agent: receives a file into a partial beside its
// destination, hashing it as it is written, and renames it into place only when all of it has
// arrived and its SHA-256 is the one the technician announced. An interrupted upload leaves
// the partial, and the next upload of the same content to the same path continues from its
// length (tools/file_transfer.hpp has the wire).

#include <boost/asio/use_awaitable.hpp>

#include "tether/agent/tools/tool.hpp"
#include "tools/file_transfer.hpp"
#include "tools/transfer_tool.hpp"

namespace tether::agent {

namespace asio = boost::asio;
using json = nlohmann::json;
using protocol::Error;
using tools::TransferFailure;

namespace {

asio::awaitable<void> receive_upload(const protocol::ChannelOpen& open, ToolContext& context,
                                     const tools::PutRequest& request,
                                     std::shared_ptr<protocol::Channel>& accepted) {
  tools::DiskWorker worker(context.executor);
  auto target = co_await tools::prepare_in_files_root(
      worker, open, context,
      [&](const tools::AllowedRoot& root) { return tools::prepare_put(root, request); });
  if (!target) co_return;
  const std::uint64_t resumed_from = target->offset;
  auto channel = context.mux->accept(open, protocol::kBulkChannelWindow,
                                     {{"offset", resumed_from}, {"path", target->display}});
  if (!channel) co_return;
  accepted = *channel;
  const std::string what = target->display + " (" + tools::size_text(request.size) + ")";
  context.notify("The technician is uploading " + what +
                 (resumed_from > 0 ? ", resuming at " + tools::size_text(resumed_from) : "") + ".");

  // The worker hashes what an earlier attempt left while the first chunks arrive, then
  // writes and hashes each batch while the next one is read off the channel.
  protocol::Sha256Digest digest;
  const int fd = target->file.get();
  worker.start([&digest, fd, resumed_from] { tools::hash_range(fd, 0, resumed_from, digest); });
  std::uint64_t received = resumed_from;
  std::uint64_t batch_at = received;
  std::vector<std::string> batch;
  std::size_t batch_bytes = 0;
  bool overflow = false;
  std::optional<tools::PathError> failure;
  try {
    for (;;) {
      auto data = co_await accepted->read();
      if (data) {
        if (data->size() > request.size - received) {
          overflow = true;
          break;
        }
        received += data->size();
        batch_bytes += data->size();
        batch.push_back(std::move(*data));
        if (batch_bytes < tools::kTransferChunkBytes) continue;
      }
      co_await worker.wait();
      if (!batch.empty()) {
        worker.start([&digest, fd, at = batch_at, chunks = std::move(batch)] {
          tools::write_chunks(fd, at, chunks, digest);
        });
        batch.clear();
        batch_bytes = 0;
        batch_at = received;
      }
      if (!data) break;
    }
    co_await worker.wait();
  } catch (const TransferFailure& e) {
    failure = e.error;
  }
  if (failure || overflow) {
    // The partial holds data that is wrong or could not be stored: it is of no use later.
    co_await worker.run(
        [&] { (void)tools::discard_partial(target->target.dir.get(), target->partial); });
    if (overflow) {
      failure = tools::PathError{Error::bad_request, "the technician sent more than the " +
                                                         std::to_string(request.size) +
                                                         " bytes announced; nothing was kept"};
    }
    accepted->close(failure->message, json::object(), failure->code);
    context.notify("The upload of " + what + " failed: " + failure->message);
    co_return;
  }
  if (!accepted->eof_received()) {
    // The technician stopped, or the connection went: keep what arrived for a later attempt.
    context.notify("The upload of " + what + " stopped at " + tools::size_text(received) +
                   "; the technician can resume it.");
    co_return;
  }
  if (received != request.size) {
    accepted->close("the upload ended at " + std::to_string(received) + " of " +
                        std::to_string(request.size) +
                        " bytes; run the same command again to resume",
                    json::object(), Error::bad_request);
    co_return;
  }

  std::string sha256;
  co_await worker.run([&] { sha256 = digest.hex(); });
  if (sha256 != request.sha256) {
    co_await worker.run(
        [&] { (void)tools::discard_partial(target->target.dir.get(), target->partial); });
    accepted->close(
        "the data that arrived does not match the file's SHA-256 (did the file change "
        "during the upload?); nothing was written, run the command again",
        json::object(), Error::conflict);
    context.notify("The upload of " + what + " was discarded: it arrived damaged.");
    co_return;
  }
  // Stopped right at the end: the complete partial stays, and the next attempt commits it.
  if (accepted->closed()) co_return;

  bool replaced = false;
  try {
    co_await worker.run([&] {
      replaced = tools::destination_exists(*target);
      tools::commit_put(*target, request.mode);
    });
  } catch (const TransferFailure& e) {
    failure = e.error;
  }
  if (failure) {
    co_await worker.run(
        [&] { (void)tools::discard_partial(target->target.dir.get(), target->partial); });
    accepted->close(failure->message, json::object(), failure->code);
    co_return;
  }
  accepted->close("uploaded", {{"path", target->display},
                               {"size", request.size},
                               {"sha256", sha256},
                               {"resumed_from", resumed_from},
                               {"replaced", replaced}});
  context.notify("The technician uploaded " + what +
                 (replaced ? ", replacing the file there." : "."));
}

}  // namespace

asio::awaitable<void> run_file_put_tool(protocol::ChannelOpen open, ToolContext context) {
  co_await tools::run_transfer(
      open, context, "upload",
      tools::parse_put_params(open.params, context.settings->max_file_bytes), receive_upload);
}

}  // namespace tether::agent
