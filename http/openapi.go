package http

import (
	_ "embed"
	"net/http"

	"github.com/audittrail/audittrail"
)

// openAPI is the OpenAPI 3 document of the API. openapi_test.go fails when
// a route of routes() is missing from it, or it lists a route that is not.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
