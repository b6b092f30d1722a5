#include "index_util.h"

#include <filesystem>

namespace trove::cli {

Result<std::unique_ptr<CatalogIndex>> open_index(Store& store, std::vector<std::string>* warnings,
                                                 const IndexOptions& opts, Status* write_failure) {
  auto index = CatalogIndex::open((std::filesystem::path(store.data_dir()) / "index").string(), opts);
  if (!index.ok()) return index.status();
  TROVE_RETURN_IF_ERROR(index.value()->attach(store, warnings, write_failure));
  return std::move(index).value();
}

}  // namespace trove::cli
