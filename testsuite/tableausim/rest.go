package tableausim

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/autoexposures/autoexposures/internal/tableau"
)

// REST responses are XML by default and JSON when the request's Accept header
// names application/json, as on Tableau. The XML form wraps the payload
// in <tsResponse>; the JSON form is the payload's elements as keys of one
// object, with XML attributes as string properties.

const (
	tableauNamespace = "http://tableau.com/api"
	xsiNamespace     = "http://www.w3.org/2001/XMLSchema-instance"
	schemaLocation   = "http://tableau.com/api https://help.tableau.com/samples/en-us/rest_api/ts-api_3_24.xsd"
)

// tsResponse is the envelope of every REST response.
type tsResponse struct {
	XMLName        xml.Name `xml:"tsResponse" json:"-"`
	XMLNS          string   `xml:"xmlns,attr" json:"-"`
	XSI            string   `xml:"xmlns:xsi,attr" json:"-"`
	SchemaLocation string   `xml:"xsi:schemaLocation,attr" json:"-"`

	Error       *restError     `xml:"error,omitempty" json:"error,omitempty"`
	Pagination  *pagination    `xml:"pagination,omitempty" json:"pagination,omitempty"`
	ServerInfo  *serverInfo    `xml:"serverInfo,omitempty" json:"serverInfo,omitempty"`
	Credentials *credentials   `xml:"credentials,omitempty" json:"credentials,omitempty"`
	Job         *jobXML        `xml:"job,omitempty" json:"job,omitempty"`
	Collections *collectionSet `xml:"collections,omitempty" json:"collections,omitempty"`
	Items       *itemSet       `xml:"items,omitempty" json:"items,omitempty"`
	Jobs        *jobSet        `xml:"backgroundJobs,omitempty" json:"backgroundJobs,omitempty"`
}

type restError struct {
	Code    string `xml:"code,attr" json:"code"`
	Summary string `xml:"summary" json:"summary"`
	Detail  string `xml:"detail" json:"detail"`
}

type pagination struct {
	PageNumber     string `xml:"pageNumber,attr" json:"pageNumber"`
	PageSize       string `xml:"pageSize,attr" json:"pageSize"`
	TotalAvailable string `xml:"totalAvailable,attr" json:"totalAvailable"`
}

type serverInfo struct {
	ProductVersion productVersion `xml:"productVersion" json:"productVersion"`
	RESTAPIVersion string         `xml:"restApiVersion" json:"restApiVersion"`
}

type productVersion struct {
	Build   string `xml:"build,attr" json:"build"`
	Version string `xml:",chardata" json:"value"`
}

// wantsJSON reports whether the client requested JSON responses.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// writeREST writes a REST response in the form the request accepts.
func writeREST(w http.ResponseWriter, r *http.Request, status int, body tsResponse) {
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
		return
	}
	body.XMLNS = tableauNamespace
	body.XSI = xsiNamespace
	body.SchemaLocation = schemaLocation
	w.Header().Set("Content-Type", "application/xml;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(body)
}

// writeError writes a Tableau REST error: an HTTP status, and a body with
// the six-digit Tableau code, a summary and a detail.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, summary, detail string) {
	writeREST(w, r, status, tsResponse{Error: &restError{Code: code, Summary: summary, Detail: detail}})
}

// parseVersion reads a REST version such as "3.24" as major and minor.
func parseVersion(v string) (major, minor int, ok bool) {
	a, b, found := strings.Cut(v, ".")
	if !found {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	return major, minor, err1 == nil && err2 == nil
}

// checkVersion rejects a REST version the server does not have, with the
// 404003 response Tableau gives for an unknown resource.
func (s *Server) checkVersion(w http.ResponseWriter, r *http.Request) bool {
	v := r.PathValue("version")
	major, minor, ok := parseVersion(v)
	maxMajor, maxMinor, _ := parseVersion(s.apiVersion())
	if ok && (major < maxMajor || major == maxMajor && minor <= maxMinor) && major >= 2 {
		return true
	}
	writeError(w, r, http.StatusNotFound, "404003", "Resource Not Found",
		"Unknown resource '"+strings.TrimPrefix(r.URL.Path, "/api")+"' specified in URI.")
	return false
}

func (s *Server) apiVersion() string {
	if v := s.site.Simulator.APIVersion; v != "" {
		return v
	}
	return DefaultAPIVersion
}

// serveServerInfo handles GET /api/{version}/serverinfo, which needs no
// sign-in.
func (s *Server) serveServerInfo(w http.ResponseWriter, r *http.Request) {
	product := s.site.Simulator.ProductVersion
	if product == "" {
		product = DefaultProductVersion
	}
	writeREST(w, r, http.StatusOK, tsResponse{ServerInfo: &serverInfo{
		ProductVersion: productVersion{Build: "20242.24.0716.1944", Version: product},
		RESTAPIVersion: s.apiVersion(),
	}})
}

// pageParams reads pageSize and pageNumber as the REST API does: pageSize
// 100 by default and at most 1000, pageNumber from 1.
func pageParams(w http.ResponseWriter, r *http.Request) (size, number int, ok bool) {
	size, number = 100, 1
	if v := r.URL.Query().Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, r, http.StatusBadRequest, "400006", "Bad Request",
				"The page size '"+v+"' is not valid. It must be a number from 1 to 1000.")
			return 0, 0, false
		}
		size = n
	}
	if v := r.URL.Query().Get("pageNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, r, http.StatusBadRequest, "400006", "Bad Request",
				"The page number '"+v+"' is not valid. It must be a positive number.")
			return 0, 0, false
		}
		number = n
	}
	return size, number, true
}

// pageOf returns the bounds of one REST page of n items.
func pageOf(n, size, number int) (start, end int) {
	start = min((number-1)*size, n)
	end = min(start+size, n)
	return start, end
}

func newPagination(size, number, total int) *pagination {
	return &pagination{
		PageNumber:     strconv.Itoa(number),
		PageSize:       strconv.Itoa(size),
		TotalAvailable: strconv.Itoa(total),
	}
}

// collectionSet and itemSet are the collections listing and a collection's
// items.
type collectionSet struct {
	Collections []collectionXML `xml:"collection" json:"collection"`
}

type collectionXML struct {
	ID             string    `xml:"id,attr" json:"id"`
	Name           string    `xml:"name,attr" json:"name"`
	Description    string    `xml:"description,attr,omitempty" json:"description,omitempty"`
	TotalItemCount string    `xml:"totalItemCount,attr" json:"totalItemCount"`
	Visibility     string    `xml:"visibility,attr" json:"visibility"`
	Owner          *ownerXML `xml:"owner,omitempty" json:"owner,omitempty"`
}

type ownerXML struct {
	ID string `xml:"id,attr" json:"id"`
}

type itemSet struct {
	Items []itemXML `xml:"item" json:"item"`
}

// itemXML is one collection item. Its resource type is in contentType, as
// the client reads it.
type itemXML struct {
	ID          string `xml:"id,attr" json:"id"`
	ContentType string `xml:"contentType,attr" json:"contentType"`
	Name        string `xml:"name,attr,omitempty" json:"name,omitempty"`
}

// siteFromPath checks that the site LUID in the path is the session's site.
func (s *Server) siteFromPath(w http.ResponseWriter, r *http.Request, sess *session) bool {
	if id := r.PathValue("site"); id != sess.siteLUID {
		writeError(w, r, http.StatusForbidden, "403000", "Forbidden",
			"The site '"+id+"' is not the site the session was signed in to.")
		return false
	}
	return true
}

// NOTE: Tableau's REST reference names "Collections Methods" but the paths
// and element names could not be confirmed from public material. The
// simulator serves GET .../sites/{site}/collections and
// GET .../sites/{site}/collections/{luid}/items with the usual pageSize and
// pageNumber paging, in the shape of Tableau's other listings; the client
// keeps the matching request in one place.

// serveCollections lists the site's collections.
func (s *Server) serveCollections(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.authenticate(w, r)
	if !ok || !s.siteFromPath(w, r, sess) {
		return
	}
	size, number, ok := pageParams(w, r)
	if !ok {
		return
	}
	s.mu.RLock()
	cols := s.site.Collections
	start, end := pageOf(len(cols), size, number)
	set := &collectionSet{Collections: []collectionXML{}}
	for _, c := range cols[start:end] {
		set.Collections = append(set.Collections, collectionXML{
			ID:             c.LUID,
			Name:           c.Name,
			TotalItemCount: strconv.Itoa(len(c.WorkbookLUIDs)),
			Visibility:     "Public",
		})
	}
	total := len(cols)
	s.mu.RUnlock()
	writeREST(w, r, http.StatusOK, tsResponse{Pagination: newPagination(size, number, total), Collections: set})
}

// serveCollectionItems lists the workbooks in one collection.
func (s *Server) serveCollectionItems(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.authenticate(w, r)
	if !ok || !s.siteFromPath(w, r, sess) {
		return
	}
	size, number, ok := pageParams(w, r)
	if !ok {
		return
	}
	luid := r.PathValue("collection")

	s.mu.RLock()
	var col *tableau.Collection
	for i := range s.site.Collections {
		if s.site.Collections[i].LUID == luid {
			col = &s.site.Collections[i]
		}
	}
	if col == nil {
		s.mu.RUnlock()
		writeError(w, r, http.StatusNotFound, "404000", "Resource Not Found",
			"Collection '"+luid+"' could not be found.")
		return
	}

	start, end := pageOf(len(col.WorkbookLUIDs), size, number)
	set := &itemSet{Items: []itemXML{}}
	for _, wl := range col.WorkbookLUIDs[start:end] {
		item := itemXML{ID: wl, ContentType: "workbook"}
		if wb := s.model.byLUID[wl]; wb != nil {
			item.Name = wb.w.Name
		}
		set.Items = append(set.Items, item)
	}
	total := len(col.WorkbookLUIDs)
	s.mu.RUnlock()

	writeREST(w, r, http.StatusOK, tsResponse{Pagination: newPagination(size, number, total), Items: set})
}
