package serve

import "net/http"

// tokenize is llama-server's POST /tokenize: {"content": TEXT,
// "add_special": false, "with_pieces": false} -> {"tokens": [...]}, each
// token {"id": ID, "piece": TEXT} with pieces.
func (s *Server) tokenize(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Content    *string `json:"content"`
		AddSpecial bool    `json:"add_special"`
		WithPieces bool    `json:"with_pieces"`
	}
	if e := readJSON(w, r, s.cfg.MaxBody, &req); e != nil {
		s.refuse(w, e)
		return
	}
	if req.Content == nil {
		s.refuse(w, badRequest("content", "content is required"))
		return
	}
	ids := s.m.Tokenizer.Encode(*req.Content, req.AddSpecial)
	if !req.WithPieces {
		writeJSON(w, struct {
			Tokens []int32 `json:"tokens"`
		}{ids})
		return
	}
	type piece struct {
		ID    int32  `json:"id"`
		Piece string `json:"piece"`
	}
	out := make([]piece, len(ids))
	for i, id := range ids {
		out[i] = piece{id, s.m.Tokenizer.Decode([]int32{id}, false)}
	}
	writeJSON(w, struct {
		Tokens []piece `json:"tokens"`
	}{out})
}

// detokenize is llama-server's POST /detokenize: {"tokens": [...]} ->
// {"content": TEXT}.
func (s *Server) detokenize(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Tokens []int32 `json:"tokens"`
	}
	if e := readJSON(w, r, s.cfg.MaxBody, &req); e != nil {
		s.refuse(w, e)
		return
	}
	for i, id := range req.Tokens {
		if id < 0 || int(id) >= s.m.Config.VocabSize {
			s.refuse(w, badRequest("tokens", "tokens[%d]: %d is outside the vocabulary (%d)", i, id, s.m.Config.VocabSize))
			return
		}
	}
	writeJSON(w, struct {
		Content string `json:"content"`
	}{s.m.Tokenizer.Decode(req.Tokens, false)})
}
