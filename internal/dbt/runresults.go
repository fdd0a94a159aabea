package dbt

import (
	"fmt"
	"io"
	"os"
	"strconv"
)

// ReadRunResultsFile reads a dbt run_results.json, plain or gzip-compressed.
func ReadRunResultsFile(path string) (*RunResults, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening run results: %w", err)
	}
	defer f.Close()

	return ReadRunResults(f, path)
}

// ReadRunResults reads dbt run results of schema v4 to v6 from r, plain or
// gzip-compressed. name identifies the input in errors. Errors about the
// content match ErrInvalidArtifact and are *ArtifactError values.
func ReadRunResults(r io.Reader, name string) (*RunResults, error) {
	plain, err := decompress(r, name, expectedRunResults)
	if err != nil {
		return nil, err
	}
	rr := &runResultsReader{s: newScanner(plain), name: name, out: &RunResults{}}
	if err := rr.read(); err != nil {
		return nil, artifactError(err, name, expectedRunResults, rr.seen)
	}
	return rr.out, nil
}

type runResultsReader struct {
	s           *scanner
	name        string
	out         *RunResults
	seen        string
	hasMetadata bool
}

func (rr *runResultsReader) read() error {
	s := rr.s
	if err := s.checkStart(rr.name, expectedRunResults); err != nil {
		return err
	}
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "metadata":
			return rr.metadata()
		case "args":
			return rr.args()
		case "results":
			c, err := s.peek()
			if err != nil {
				return err
			}
			if c != '[' {
				return s.typeError("results", "a list", c)
			}
			i := 0
			return s.array(func() error {
				if err := rr.result(); err != nil {
					return withPath(err, "results["+strconv.Itoa(i)+"]")
				}
				i++
				return nil
			})
		}
		return s.skipValue()
	})
	if err != nil {
		return err
	}
	end, err := s.atEnd()
	if err != nil {
		return err
	}
	if !end {
		return s.errorf("data after the end of the JSON object")
	}
	if !rr.hasMetadata {
		return &ArtifactError{Name: rr.name, Found: "a JSON object without metadata.dbt_schema_version, so not a dbt artifact", Expected: expectedRunResults, Offset: -1}
	}
	return nil
}

func (rr *runResultsReader) metadata() error {
	s := rr.s
	var schemaURL, dbtVersion, generatedAt string
	err := s.object(func(key []byte) error {
		var dst *string
		switch string(key) {
		case "dbt_schema_version":
			dst = &schemaURL
		case "dbt_version":
			dst = &dbtVersion
		case "generated_at":
			dst = &generatedAt
		case "invocation_id":
			dst = &rr.out.InvocationID
		default:
			return s.skipValue()
		}
		b, _, err := s.stringOrNull("metadata." + string(key))
		*dst = string(b)
		return err
	})
	if err != nil {
		return err
	}
	if schemaURL == "" {
		return nil
	}
	rr.hasMetadata = true

	v, err := checkSchema(rr.name, schemaURL, dbtVersion, kindRunResults, MinRunResultsVersion, MaxRunResultsVersion, expectedRunResults)
	if err != nil {
		return err
	}
	rr.out.SchemaVersion = v.version
	rr.seen = v.describe(dbtVersion)
	if generatedAt != "" {
		t, ok := parseTime([]byte(generatedAt))
		if !ok {
			return &ArtifactError{
				Name:     rr.name,
				Found:    fmt.Sprintf("%s whose metadata.generated_at is %q", rr.seen, generatedAt),
				Expected: "an RFC 3339 time such as 2024-11-02T04:30:04.614989Z",
				Offset:   -1,
			}
		}
		rr.out.GeneratedAt = t
	}
	return nil
}

// args reads args.which, the dbt command that wrote the file, and skips
// the other arguments. args is null or absent in some hand-made files.
func (rr *runResultsReader) args() error {
	s := rr.s
	if null, err := s.isNull(); null || err != nil {
		return err
	}
	if err := s.expectObject("args"); err != nil {
		return err
	}
	return s.object(func(key []byte) error {
		if string(key) != "which" {
			return s.skipValue()
		}
		b, _, err := s.stringOrNull("args.which")
		rr.out.Command = string(b)
		return err
	})
}

// result reads one element of results: unique_id, status and the
// completed_at of the "execute" timing.
func (rr *runResultsReader) result() error {
	s := rr.s
	var res RunResult
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "unique_id":
			b, _, err := s.stringOrNull("unique_id")
			res.UniqueID = string(b)
			return err
		case "status":
			b, _, err := s.stringOrNull("status")
			res.Status = string(b)
			return err
		case "timing":
			return rr.timing(&res)
		}
		return s.skipValue()
	})
	if err != nil {
		return err
	}
	rr.out.Results = append(rr.out.Results, res)
	return nil
}

func (rr *runResultsReader) timing(res *RunResult) error {
	s := rr.s
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch c {
	case 'n':
		_, err := s.isNull()
		return err
	case '[':
	default:
		return s.typeError("timing", "a list", c)
	}
	return s.array(func() error {
		var name, completedAt []byte
		if err := s.expectObject("timing[]"); err != nil {
			return err
		}
		err := s.object(func(key []byte) error {
			switch string(key) {
			case "name":
				b, _, err := s.stringOrNull("timing[].name")
				name = append(name[:0], b...)
				return err
			case "completed_at":
				b, _, err := s.stringOrNull("timing[].completed_at")
				completedAt = append(completedAt[:0], b...)
				return err
			}
			return s.skipValue()
		})
		if err != nil || string(name) != "execute" || len(completedAt) == 0 {
			return err
		}
		t, ok := parseTime(completedAt)
		if !ok {
			return &scanError{
				offset: s.offset(),
				msg:    fmt.Sprintf("invalid time %q", completedAt),
				path:   "timing[].completed_at",
				want:   "an RFC 3339 time",
				got:    strconv.Quote(string(completedAt)),
			}
		}
		res.CompletedAt = t
		return nil
	})
}
