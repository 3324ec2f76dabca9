package enroll

import (
	"errors"
	"net/http"

	"github.com/spatialprops/spatialprops-infra/services/kit"
)

// maxRequest bounds a request body: a CSR and a certificate are a few KB.
const maxRequest = 32 << 10

// Routes adds POST /v1/enroll and POST /v1/renew to s.
func Routes(s *kit.Service, svc *Service) {
	s.Handle("POST /v1/enroll", func(w http.ResponseWriter, r *http.Request) {
		var req EnrollRequest
		if err := kit.DecodeJSON(r, maxRequest, &req); err != nil {
			kit.WriteProblem(w, http.StatusBadRequest, "bad_request", "%v", err)
			return
		}
		answer(w, r, svc, func() (*Issued, error) { return svc.Enroll(r.Context(), req) })
	})
	s.Handle("POST /v1/renew", func(w http.ResponseWriter, r *http.Request) {
		var req RenewRequest
		if err := kit.DecodeJSON(r, maxRequest, &req); err != nil {
			kit.WriteProblem(w, http.StatusBadRequest, "bad_request", "%v", err)
			return
		}
		answer(w, r, svc, func() (*Issued, error) { return svc.Renew(r.Context(), req) })
	})
}

func answer(w http.ResponseWriter, r *http.Request, svc *Service, do func() (*Issued, error)) {
	out, err := do()
	var refusal *Refusal
	switch {
	case errors.As(err, &refusal):
		svc.Log.WarnContext(r.Context(), "refused", "code", refusal.Code, "reason", refusal.Message)
		kit.WriteProblem(w, refusal.Status, refusal.Code, "%s", refusal.Message)
	case err != nil:
		svc.failures.Inc()
		svc.Log.ErrorContext(r.Context(), "issuance failed", "error", err.Error())
		kit.WriteProblem(w, http.StatusBadGateway, "issuance_failed", "the certificate could not be issued; retry with the same CSR")
	default:
		kit.WriteJSON(w, http.StatusCreated, out)
	}
}
