package http

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/audittrail/audittrail"
)

func (s *Server) handleCheckpointKey(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	key, err := s.svc.CheckpointKey(p)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(key + "\n"))
}

func (s *Server) handleCheckpoint(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	cp, err := s.svc.Checkpoint(r.Context(), p, r.PathValue("account"))
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

func (s *Server) handleProof(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var size *uint64
	if v := r.URL.Query().Get("tree_size"); v != "" {
		n, err := treeSize("tree_size", v)
		if err != nil {
			s.refuseRead(w, r, p, "", err)
			return
		}
		size = &n
	}
	proof, err := s.svc.ProveRecord(r.Context(), p, r.PathValue("account"), r.PathValue("id"), size)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, proofJSON{LeafIndex: proof.LeafIndex, TreeSize: proof.TreeSize, LeafHash: b64(proof.LeafHash), Hashes: b64s(proof.Hashes)})
}

func (s *Server) handleConsistency(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	q := r.URL.Query()
	from, err := treeSize("from", q.Get("from"))
	if err != nil {
		s.refuseRead(w, r, p, "", err)
		return
	}
	to, err := treeSize("to", q.Get("to"))
	if err != nil {
		s.refuseRead(w, r, p, "", err)
		return
	}
	hashes, err := s.svc.ProveConsistency(r.Context(), p, r.PathValue("account"), from, to)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]string{"hashes": b64s(hashes)})
}

// treeSize reads the tree size of a query parameter.
func treeSize(name, v string) (uint64, error) {
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
