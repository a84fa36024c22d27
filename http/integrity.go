package http

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/tlog"
)

func (s *Server) handleCheckpointKey(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(s.Log.Signer.VerifierKey() + "\n"))
}

func (s *Server) handleCheckpoint(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	cp, err := s.Log.Checkpoint(r.Context(), r.PathValue("account"), tlog.MaxCheckpointAge)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(cp.Note)
}

// proofJSON is the answer of the proof route.
type proofJSON struct {
	LeafIndex int64    `json:"leaf_index"`
	TreeSize  uint64   `json:"tree_size"`
	LeafHash  string   `json:"leaf_hash"`
	Hashes    []string `json:"hashes"`
}

func (s *Server) handleProof(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	account := r.PathValue("account")
	rec, err := s.findRecord(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	size, err := s.treeSizeParam(r, "tree_size", true)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	leaf, hashes, err := s.Log.InclusionProof(r.Context(), account, rec.Seq, size)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, proofJSON{LeafIndex: rec.Seq, TreeSize: size, LeafHash: b64(leaf), Hashes: b64s(hashes)})
}

func (s *Server) handleConsistency(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	from, err := s.treeSizeParam(r, "from", false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	to, err := s.treeSizeParam(r, "to", false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	hashes, err := s.Log.ConsistencyProof(r.Context(), r.PathValue("account"), from, to)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]string{"hashes": b64s(hashes)})
}

// treeSizeParam reads a tree size from the query. An optional one that is
// absent is the size of the account's newest checkpoint.
func (s *Server) treeSizeParam(r *http.Request, name string, optional bool) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" && optional {
		cp, err := s.Log.Checkpoint(r.Context(), r.PathValue("account"), tlog.MaxCheckpointAge)
		if err != nil {
			return 0, err
		}
		return cp.TreeSize, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "%s must be a tree size (a whole number)", name)
	}
	return n, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func b64s(hashes [][]byte) []string {
	out := make([]string, len(hashes))
	for i, h := range hashes {
		out[i] = b64(h)
	}
	return out
}
