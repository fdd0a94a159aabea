package tableau

import "github.com/shurcooL/graphql"

// The Go types below spell the Metadata API queries for
// github.com/shurcooL/graphql. Their json tags repeat the field names so
// that metadataTransport can decode responses with encoding/json. Type, field, filter and argument names are
// Tableau's, as in the Metadata API reference
// (help.tableau.com/current/api/metadata_api/en-us/reference) and in the
// recorded responses in testdata/tableau/metadata.

// Workbook_Filter is Tableau's filter input of workbooksConnection. The Go
// name must equal the GraphQL input type name, because the graphql package
// declares variables by their Go type name.
type Workbook_Filter struct { //nolint:revive // name fixed by the GraphQL schema
	LUIDWithin        []string `json:"luidWithin,omitempty"`
	ProjectNameWithin []string `json:"projectNameWithin,omitempty"`
}

// PublishedDatasource_Filter is Tableau's filter input of
// publishedDatasourcesConnection.
type PublishedDatasource_Filter struct { //nolint:revive // name fixed by the GraphQL schema
	LUIDWithin []string `json:"luidWithin,omitempty"`
}

type pageInfo struct {
	HasNextPage bool   `graphql:"hasNextPage" json:"hasNextPage"`
	EndCursor   string `graphql:"endCursor" json:"endCursor"`
}

// listWorkbooksQuery is the cheap listing: one node per workbook.
type listWorkbooksQuery struct {
	WorkbooksConnection struct {
		Nodes []struct {
			LUID        string `graphql:"luid" json:"luid"`
			Name        string `graphql:"name" json:"name"`
			ProjectName string `graphql:"projectName" json:"projectName"`
			UpdatedAt   string `graphql:"updatedAt" json:"updatedAt"`
		} `graphql:"nodes" json:"nodes"`
		PageInfo pageInfo `graphql:"pageInfo" json:"pageInfo"`
	} `graphql:"workbooksConnection(first: $first, after: $after, filter: $filter)" json:"workbooksConnection"`
}

// ownerNode is a TableauUser.
type ownerNode struct {
	Name     string `graphql:"name" json:"name"`
	Email    string `graphql:"email" json:"email"`
	Username string `graphql:"username" json:"username"`
}

// databaseNode is the Database a table lives in.
type databaseNode struct {
	Name           string `graphql:"name" json:"name"`
	ConnectionType string `graphql:"connectionType" json:"connectionType"`
}

// tableNode is a DatabaseTable.
type tableNode struct {
	ID             string        `graphql:"id" json:"id"`
	Name           string        `graphql:"name" json:"name"`
	Schema         string        `graphql:"schema" json:"schema"`
	FullName       string        `graphql:"fullName" json:"fullName"`
	ConnectionType string        `graphql:"connectionType" json:"connectionType"`
	Database       *databaseNode `graphql:"database" json:"database"`
}

// workbookNode is one workbook with its lineage.
type workbookNode struct {
	LUID        string    `graphql:"luid" json:"luid"`
	Name        string    `graphql:"name" json:"name"`
	ProjectName string    `graphql:"projectName" json:"projectName"`
	ProjectLUID string    `graphql:"projectLuid" json:"projectLuid"`
	Description string    `graphql:"description" json:"description"`
	URI         string    `graphql:"uri" json:"uri"`
	UpdatedAt   string    `graphql:"updatedAt" json:"updatedAt"`
	Owner       ownerNode `graphql:"owner" json:"owner"`
	Tags        []struct {
		Name string `graphql:"name" json:"name"`
	} `graphql:"tags" json:"tags"`
	Dashboards []struct {
		ID   string `graphql:"id" json:"id"`
		LUID string `graphql:"luid" json:"luid"`
		Name string `graphql:"name" json:"name"`
		Path string `graphql:"path" json:"path"`
	} `graphql:"dashboards" json:"dashboards"`
	EmbeddedDatasources []struct {
		ID                     string      `graphql:"id" json:"id"`
		Name                   string      `graphql:"name" json:"name"`
		HasExtracts            bool        `graphql:"hasExtracts" json:"hasExtracts"`
		ExtractLastRefreshTime *string     `graphql:"extractLastRefreshTime" json:"extractLastRefreshTime"`
		UpstreamTables         []tableNode `graphql:"upstreamTables" json:"upstreamTables"`
	} `graphql:"embeddedDatasources" json:"embeddedDatasources"`
	// UpstreamDatasources are the published data sources the workbook
	// reads, directly or through its embedded data sources. Their lineage is
	// read once per data source, not once per workbook.
	UpstreamDatasources []struct {
		LUID string `graphql:"luid" json:"luid"`
	} `graphql:"upstreamDatasources" json:"upstreamDatasources"`
}

// readWorkbooksQuery reads full lineage for a batch of workbooks.
type readWorkbooksQuery struct {
	WorkbooksConnection struct {
		Nodes    []workbookNode `graphql:"nodes" json:"nodes"`
		PageInfo pageInfo       `graphql:"pageInfo" json:"pageInfo"`
	} `graphql:"workbooksConnection(first: $first, after: $after, filter: $filter)" json:"workbooksConnection"`
}

// publishedDatasourceNode is a PublishedDatasource with its lineage.
type publishedDatasourceNode struct {
	ID                     string      `graphql:"id" json:"id"`
	LUID                   string      `graphql:"luid" json:"luid"`
	Name                   string      `graphql:"name" json:"name"`
	ProjectName            string      `graphql:"projectName" json:"projectName"`
	Owner                  ownerNode   `graphql:"owner" json:"owner"`
	HasExtracts            bool        `graphql:"hasExtracts" json:"hasExtracts"`
	ExtractLastRefreshTime *string     `graphql:"extractLastRefreshTime" json:"extractLastRefreshTime"`
	UpstreamTables         []tableNode `graphql:"upstreamTables" json:"upstreamTables"`
}

type readPublishedDatasourcesQuery struct {
	PublishedDatasourcesConnection struct {
		Nodes    []publishedDatasourceNode `graphql:"nodes" json:"nodes"`
		PageInfo pageInfo                  `graphql:"pageInfo" json:"pageInfo"`
	} `graphql:"publishedDatasourcesConnection(first: $first, after: $after, filter: $filter)" json:"publishedDatasourcesConnection"`
}

// customSQLNode is a CustomSQLTable: the query text, the tables Tableau
// parsed from it (empty when it could not) and the data sources it feeds.
type customSQLNode struct {
	ID             string        `graphql:"id" json:"id"`
	Name           string        `graphql:"name" json:"name"`
	Query          string        `graphql:"query" json:"query"`
	ConnectionType string        `graphql:"connectionType" json:"connectionType"`
	Database       *databaseNode `graphql:"database" json:"database"`
	Tables         []tableNode   `graphql:"tables" json:"tables"`
	// DownstreamDatasources holds the Metadata API ids of the embedded and
	// published data sources that contain the query.
	DownstreamDatasources []struct {
		ID string `graphql:"id" json:"id"`
	} `graphql:"downstreamDatasources" json:"downstreamDatasources"`
}

type readCustomSQLQuery struct {
	CustomSQLTablesConnection struct {
		Nodes    []customSQLNode `graphql:"nodes" json:"nodes"`
		PageInfo pageInfo        `graphql:"pageInfo" json:"pageInfo"`
	} `graphql:"customSQLTablesConnection(first: $first, after: $after)" json:"customSQLTablesConnection"`
}

// cursor returns the after variable: null for the first page.
func cursor(after string) *graphql.String {
	if after == "" {
		return nil
	}
	s := graphql.String(after)
	return &s
}
