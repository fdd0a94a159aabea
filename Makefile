# Shortcuts for local work; CI runs .ci/run, which needs no make.
.PHONY: demo test e2e vet temporal dev-server

demo:
	go run ./starter demo

test:
	go test -tags devserver -timeout 45m ./...

e2e:
	go test -timeout 30m -v ./testsuite/e2e/

vet:
	go vet ./...

# A dev server on the demo's SQLite file, for a worker run by hand. The
# CLI does not create the file's directory. Stop the demo first: it holds
# the same file.
dev-server: bin/temporal
	mkdir -p .state/temporal
	bin/temporal server start-dev --db-filename .state/temporal/temporal.db

# The harness installs the CLI on first use; this builds it ahead of time.
temporal: bin/temporal
bin/temporal:
	GOBIN=$(CURDIR)/bin go install github.com/temporalio/cli/cmd/temporal@v1.5.1
