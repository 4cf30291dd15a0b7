#include "store.hpp"

#include "file_store.hpp"

namespace valix {

Result<std::unique_ptr<StateStore>> open_state_store(const Config& config, uid_t trusted_uid) {
  auto files = FileStateStore::open(config.state_dir, trusted_uid);
  if (!files) return std::unexpected(files.error());
  return std::make_unique<FileStateStore>(std::move(*files));
}

}  // namespace valix
