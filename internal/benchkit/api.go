package benchkit

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/audittrail/audittrail"
	athttp "github.com/audittrail/audittrail/http"
	"github.com/audittrail/audittrail/service"
	"github.com/audittrail/audittrail/tlog"
)

// NewAPI returns the API over st as the binary builds it, with a signing
// key of its own and the given rate limits, logging every request to a
// discarded writer: the cost of formatting the line is counted, not a
// terminal's.
func NewAPI(st audittrail.Store, limits athttp.Config) (http.Handler, error) {
	catalog, err := audittrail.NewCatalog(nil)
	if err != nil {
		return nil, err
	}
	signer, err := tlog.NewEphemeralSigner()
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	log := &tlog.Log{Store: st, Signer: signer, Logger: logger, Now: time.Now}
	svc := service.New(st, catalog, log, service.DefaultConfig(), time.Now, logger)
	return athttp.NewServer(svc, limits, logger), nil
}
