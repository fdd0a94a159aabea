package tableausim

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Fault is a failure injected into the requests of one kind. Faults apply in
// the order they were injected; a request gets at most one fault.
type Fault struct {
	// Kind is the request kind it applies to (KindGraphQL, KindRefresh,
	// ...); empty matches every kind.
	Kind string
	// Skip is how many matching requests pass untouched before the fault
	// applies.
	Skip int
	// Times is how many matching requests get the fault: 0 means once, a
	// negative number means every one from then on.
	Times int

	// Status responds with this HTTP status and a Tableau error body instead
	// of serving the request: 429 (with RetryAfter), 500 or 503.
	Status int
	// RetryAfter is sent as the Retry-After header, in whole seconds, with
	// Status 429.
	RetryAfter time.Duration
	// GraphQLCode responds to a Metadata API request with HTTP 200 and this
	// error code in the body, such as "RATE_EXCEEDED". TimeLimitExceeded
	// instead runs the query and returns half of its nodes with Tableau's
	// time-limit error, as in the recorded response
	// tsc_metadata_query_error.json.
	GraphQLCode string
	// ExpireSession ends the caller's session before the request is served,
	// so the request fails with 401002 as after a session time-out.
	ExpireSession bool
	// DeleteWorkbook removes the workbook with this LUID before the request
	// is served, as if it were deleted between two requests of a client.
	DeleteWorkbook string
	// Latency delays the request on top of the server's latency.
	Latency time.Duration
	// HTMLBody sends Status with an HTML page instead of a Tableau error
	// body, as a load balancer or proxy in front of Tableau does.
	HTMLBody bool
	// Disconnect closes the connection without a response, as a network
	// failure or a restarting server does.
	Disconnect bool

	applied int
}

// TimeLimitExceeded is the Fault.GraphQLCode of a Metadata API query that
// runs out of time and returns partial data.
const TimeLimitExceeded = "TIME_LIMIT_EXCEEDED"

// InjectFault adds a fault. It is safe to call while requests are served.
func (s *Server) InjectFault(f Fault) {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	fc := f
	s.faults = append(s.faults, &fc)
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	s.faults = nil
}

// PendingFaults returns how many injected faults have not been used up.
func (s *Server) PendingFaults() int {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	return len(s.faults)
}

// takeFault picks the fault for a request of kind; faultsMu must be held.
func (s *Server) takeFault(kind string) *Fault {
	for i, f := range s.faults {
		if f.Kind != "" && f.Kind != kind {
			continue
		}
		if f.Skip > 0 {
			f.Skip--
			continue
		}
		f.applied++
		times := f.Times
		if times == 0 {
			times = 1
		}
		if times > 0 && f.applied >= times {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		fc := *f
		return &fc
	}
	return nil
}

// applyFault carries out a fault and reports whether it responded to the
// request, in which case the handler must not run.
func (s *Server) applyFault(f *Fault, kind string, n int, w http.ResponseWriter, r *http.Request) bool {
	log := s.logger.With("kind", kind, "request", n)
	if f.DeleteWorkbook != "" {
		s.DeleteWorkbook(f.DeleteWorkbook)
	}
	if f.ExpireSession {
		if token := r.Header.Get(authHeader); token != "" {
			s.expireSession(token)
			log.Info("tableau simulator expired a session")
		}
	}
	switch {
	case f.Disconnect:
		log.Info("tableau simulator injected a fault", "disconnect", true)
		// ErrAbortHandler makes net/http close the connection without a
		// response and without logging a panic.
		panic(http.ErrAbortHandler)
	case f.HTMLBody && f.Status != 0:
		log.Info("tableau simulator injected a fault", "status", f.Status, "html", true)
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><h1>%d %s</h1></body></html>\n",
			f.Status, http.StatusText(f.Status), f.Status, http.StatusText(f.Status))
		return true
	case f.Status == http.StatusTooManyRequests:
		if f.RetryAfter > 0 {
			secs := int((f.RetryAfter + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		log.Info("tableau simulator injected a fault", "status", f.Status)
		writeError(w, r, http.StatusTooManyRequests, "429000", "Too Many Requests",
			"Too many requests in the allotted amount of time. Try again later.")
		return true
	case f.Status != 0:
		log.Info("tableau simulator injected a fault", "status", f.Status)
		code := fmt.Sprintf("%d000", f.Status)
		writeError(w, r, f.Status, code, http.StatusText(f.Status),
			"The simulated server failed to process the request.")
		return true
	case f.GraphQLCode == TimeLimitExceeded && kind == KindGraphQL:
		log.Info("tableau simulator injected a fault", "graphql_code", f.GraphQLCode)
		s.serveGraphQLPartial(w, r)
		return true
	case f.GraphQLCode != "" && kind == KindGraphQL:
		log.Info("tableau simulator injected a fault", "graphql_code", f.GraphQLCode)
		ge := rateExceededError()
		if f.GraphQLCode != "RATE_EXCEEDED" {
			ge = graphqlError{
				Message:    "Injected error " + f.GraphQLCode,
				Extensions: map[string]any{"severity": "ERROR", "code": f.GraphQLCode},
			}
		}
		writeGraphQL(w, http.StatusOK, graphqlResponse{Errors: []graphqlError{ge}}, 0)
		return true
	}
	return false
}
