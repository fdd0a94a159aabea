//go:build tools

// Package deps pins the modules that DESIGN.md chooses, so that go.mod keeps
// them while the packages that import them are being written.
package deps

import (
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "github.com/sethvargo/go-envconfig"
	_ "github.com/shurcooL/graphql"
	_ "github.com/vektah/gqlparser/v2"
	_ "go.temporal.io/sdk/client"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/text/unicode/norm"
)
