#pragma once
/// The technician REST API's route table, as `tether-relay routes` prints it for tooling (the
/// OpenAPI conformance test compares it with docs/openapi.yaml).

#include <string>
#include <vector>

namespace tether::relay {

struct ApiRoute {
  std::string method;  ///< "GET", "POST", "PATCH".
  std::string path;    ///< "/api/v1/tickets/{ticket}/notes".
};

std::vector<ApiRoute> api_routes();

}  // namespace tether::relay
