package service

import (
	"context"
	"io"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
)

// Export is an export that has been allowed to start: authorized, its
// filter clamped to the retention window, one of the account's export
// slots taken and, for Excel, its size checked. Every refusal comes from
// OpenExport, before a byte is written. Close frees the slot.
type Export struct {
	// Filename and ContentType are what a download is named and typed.
	Filename    string
	ContentType string
	// Account is the account exported.
	Account *audittrail.Account
	// IdleTimeout is how long the front end waits for a client that reads
	// nothing before dropping it (export.IdleWriter), which frees the slot.
	IdleTimeout time.Duration

	s       *Service
	f       audittrail.RecordFilter
	format  string
	loc     *time.Location
	release func()
}

// OpenExport starts an export of the records that f selects in format
// (export.FormatXLSX, FormatCSV or FormatNDJSON; SPEC §6): Excel up to
// export.MaxXLSXRecords, CSV and NDJSON without a cap, at most
// export.MaxPerAccount at once per account. Viewers only; logged before a
// byte is written, with the count of the records it will hold. Returns
// ENOTFOUND, EEXPORTTOOLARGE, EEXPORTBUSY.
func (s *Service) OpenExport(ctx context.Context, p *audittrail.Principal, f audittrail.RecordFilter, format string) (exp *Export, err error) {
	err = s.logged(ctx, p, reading{account: f.AccountID, action: audittrail.AccessExport, format: format, filters: GivenFilters(f)}, func() (n int, err error) {
		exp, n, err = s.openExport(ctx, f, format)
		return n, err
	})
	if err != nil {
		if exp != nil {
			exp.Close()
		}
		return nil, err
	}
	return exp, nil
}

func (s *Service) openExport(ctx context.Context, f audittrail.RecordFilter, format string) (*Export, int, error) {
	Clamp(&f, s.cfg.Retention, s.now())
	acct, err := s.store.FindAccount(ctx, f.AccountID)
	if err != nil {
		return nil, 0, err
	}
	loc, err := time.LoadLocation(acct.Timezone)
	if err != nil {
		loc = time.UTC
	}
	release, err := s.AcquireExportSlot(acct.ID)
	if err != nil {
		return nil, 0, err
	}
	n, err := s.store.CountRecords(ctx, f)
	if err == nil && format == export.FormatXLSX && n > export.MaxXLSXRecords {
		err = export.TooLarge(n)
	}
	if err != nil {
		release()
		return nil, 0, err
	}
	to := s.now()
	if f.To != nil {
		to = *f.To
	}
	return &Export{
		Filename:    export.Filename(acct.ID, *f.From, to, loc, format),
		ContentType: export.ContentType(format),
		Account:     acct,
		IdleTimeout: s.ExportIdleTimeout(),
		s:           s, f: f, format: format, loc: loc, release: release,
	}, n, nil
}

// AcquireExportSlot takes one of the account's export slots, shared by
// every API that exports (the LiveEngage-compatible one too), or returns
// EEXPORTBUSY.
func (s *Service) AcquireExportSlot(accountID string) (release func(), err error) {
	return s.exports.Acquire(accountID)
}

// ExportIdleTimeout is how long an export, of any API, waits for a client
// that reads nothing before dropping it and freeing its slot; 0 for never.
func (s *Service) ExportIdleTimeout() time.Duration {
	switch d := s.cfg.ExportIdleTimeout; {
	case d == 0:
		return export.DefaultIdleTimeout
	case d < 0:
		return 0
	default:
		return d
	}
}

// WriteTo streams the export to w, calling flushed (which may be nil)
// after the header and every few hundred records, and returns how many
// records it wrote. A cancelled ctx stops it at once.
func (e *Export) WriteTo(ctx context.Context, w io.Writer, flushed func(n int)) (int, error) {
	enc, err := export.NewEncoder(e.format, w, e.s.catalog, e.loc)
	if err != nil {
		return 0, err
	}
	return export.Write(ctx, e.s.store, e.f, enc, flushed)
}

// Close frees the export's slot.
func (e *Export) Close() { e.release() }
