package tableausim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Request kinds, as counted by Count and matched by Fault.Kind.
const (
	KindServerInfo  = "serverinfo"
	KindSignIn      = "signin"
	KindSignOut     = "signout"
	KindGraphQL     = "graphql"
	KindCollections = "collections"
	KindRefresh     = "refresh"
	KindJobs        = "jobs"
	KindOther       = "other"
)

// Server is a simulated Tableau Server or Tableau Cloud site.
type Server struct {
	site      *Site
	clock     func() time.Time
	logger    *slog.Logger
	nodeLimit int

	mu       sync.RWMutex
	model    *model
	sessions map[string]*session
	jobs     map[string]*job
	jobOrder []string

	faultsMu sync.Mutex
	faults   []*Fault
	latency  time.Duration
	counts   map[string]int
	nodes    int
	inFlight int
	maxIn    int

	httpServer *http.Server
	listener   net.Listener
	handler    http.Handler
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock that session lifetimes and job progress follow,
// so that a test can move time forward without sleeping.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.clock = now }
}

// WithLogger sets the logger for requests and faults. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) { s.logger = l }
}

// WithLatency delays every request by d before it is served.
func WithLatency(d time.Duration) Option {
	return func(s *Server) { s.latency = d }
}

// New returns a simulator serving site. The site must have passed
// Validate, as LoadSite and ParseSite do. New keeps the site and changes it
// as the simulated site changes (refreshes, deletions).
func New(site *Site, opts ...Option) *Server {
	s := &Server{
		site:     site,
		clock:    time.Now,
		logger:   slog.New(slog.DiscardHandler),
		sessions: map[string]*session{},
		jobs:     map[string]*job{},
		counts:   map[string]int{},
	}
	for _, o := range opts {
		o(s)
	}
	if site.SiteLUID == "" {
		site.SiteLUID = derivedID("Site", site.Site)
	}
	s.nodeLimit = cmp.Or(site.Simulator.NodeLimit, DefaultNodeLimit)
	s.model = buildModel(site)
	s.handler = s.routes()
	return s
}

// Handler returns the simulator as an http.Handler, for httptest.Server or
// a caller's own listener.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on a free port of 127.0.0.1 and serves in the background.
func (s *Server) Start() error {
	return s.StartAt("127.0.0.1:0")
}

// StartAt listens on addr and serves in the background.
func (s *Server) StartAt(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	s.listener = ln
	s.httpServer = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.httpServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("tableau simulator stopped serving", "error", err)
		}
	}()
	s.logger.Info("tableau simulator started", "url", s.URL())
	return nil
}

// URL returns the base URL of a started server, such as
// http://127.0.0.1:40123.
func (s *Server) URL() string {
	if s.listener == nil {
		return ""
	}
	return "http://" + s.listener.Addr().String()
}

// Close stops a started server and waits briefly for requests in flight.
func (s *Server) Close() {
	if s.httpServer == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.httpServer.Shutdown(ctx); err != nil {
		_ = s.httpServer.Close()
	}
	s.logger.Info("tableau simulator stopped", "url", s.URL())
}

// SiteLUID returns the LUID of the simulated site.
func (s *Server) SiteLUID() string { return s.site.SiteLUID }

// routes maps Tableau's paths to handlers. The REST version in a path is
// checked against the version serverinfo reports.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/{version}/serverinfo", s.rest(KindServerInfo, s.serveServerInfo))
	mux.Handle("POST /api/{version}/auth/signin", s.rest(KindSignIn, s.serveSignIn))
	mux.Handle("POST /api/{version}/auth/signout", s.rest(KindSignOut, s.serveSignOut))
	mux.Handle("POST /api/metadata/graphql", s.wrap(KindGraphQL, s.serveGraphQL))
	mux.Handle("GET /api/{version}/sites/{site}/collections", s.rest(KindCollections, s.serveCollections))
	mux.Handle("GET /api/{version}/sites/{site}/collections/{collection}/items", s.rest(KindCollections, s.serveCollectionItems))
	mux.Handle("POST /api/{version}/sites/{site}/workbooks/{id}/refresh", s.rest(KindRefresh, s.serveWorkbookRefresh))
	mux.Handle("POST /api/{version}/sites/{site}/datasources/{id}/refresh", s.rest(KindRefresh, s.serveDatasourceRefresh))
	mux.Handle("GET /api/{version}/sites/{site}/jobs", s.rest(KindJobs, s.serveListJobs))
	mux.Handle("GET /api/{version}/sites/{site}/jobs/{id}", s.rest(KindJobs, s.serveGetJob))
	mux.Handle("PUT /api/{version}/sites/{site}/jobs/{id}", s.rest(KindJobs, s.serveCancelJob))
	mux.Handle("/", s.wrap(KindOther, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, "404003", "Resource Not Found",
			fmt.Sprintf("Unknown resource '%s' specified in URI.", r.URL.Path))
	}))
	return mux
}

// wrap counts a request, applies latency and injected faults, and advances
// refresh jobs to the current time before the handler runs.
func (s *Server) wrap(kind string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, n := s.begin(kind)
		defer s.end()

		delay := s.currentLatency()
		if f != nil && f.Latency > 0 {
			delay += f.Latency
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}

		s.advanceJobs()
		if f != nil && s.applyFault(f, kind, n, w, r) {
			return
		}
		h(w, r)
	})
}

// rest is wrap for REST endpoints: it also checks the version in the path.
func (s *Server) rest(kind string, h http.HandlerFunc) http.Handler {
	return s.wrap(kind, func(w http.ResponseWriter, r *http.Request) {
		if !s.checkVersion(w, r) {
			return
		}
		h(w, r)
	})
}

func (s *Server) begin(kind string) (*Fault, int) {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	s.counts[kind]++
	s.inFlight++
	s.maxIn = max(s.maxIn, s.inFlight)
	n := s.counts[kind]
	return s.takeFault(kind), n
}

func (s *Server) end() {
	s.faultsMu.Lock()
	s.inFlight--
	s.faultsMu.Unlock()
}

func (s *Server) currentLatency() time.Duration {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	return s.latency
}

func (s *Server) countNodes(n int) {
	s.faultsMu.Lock()
	s.nodes += n
	s.faultsMu.Unlock()
}

// Count returns how many requests of a kind (KindGraphQL, KindSignIn, ...)
// the server received, faulted ones included.
func (s *Server) Count(kind string) int {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	return s.counts[kind]
}

// Counts returns the number of requests received per kind.
func (s *Server) Counts() map[string]int {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// NodesServed returns the total number of Metadata API nodes returned so
// far, counted as the node limit counts them.
func (s *Server) NodesServed() int {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	return s.nodes
}

// MaxConcurrent returns the highest number of requests that were being
// served at the same time.
func (s *Server) MaxConcurrent() int {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	return s.maxIn
}

// ResetCounts sets every counter back to zero.
func (s *Server) ResetCounts() {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	s.counts = map[string]int{}
	s.nodes = 0
	s.maxIn = s.inFlight
}

// SetLatency changes the delay added to every request.
func (s *Server) SetLatency(d time.Duration) {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	s.latency = d
}

// DeleteWorkbook removes a workbook from the site, as if its owner deleted
// it. It reports whether the workbook existed.
func (s *Server) DeleteWorkbook(luid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteWorkbookLocked(luid)
}

func (s *Server) deleteWorkbookLocked(luid string) bool {
	i := -1
	for j := range s.site.Workbooks {
		if s.site.Workbooks[j].LUID == luid {
			i = j
			break
		}
	}
	if i < 0 {
		return false
	}
	s.site.Workbooks = append(s.site.Workbooks[:i:i], s.site.Workbooks[i+1:]...)
	for c := range s.site.Collections {
		col := &s.site.Collections[c]
		for k, l := range col.WorkbookLUIDs {
			if l == luid {
				col.WorkbookLUIDs = append(col.WorkbookLUIDs[:k:k], col.WorkbookLUIDs[k+1:]...)
				break
			}
		}
	}
	s.model = buildModel(s.site)
	s.logger.Info("tableau simulator deleted a workbook", "workbook_luid", luid)
	return true
}
