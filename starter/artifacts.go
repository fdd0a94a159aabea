package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// artifactLocation turns a --manifest or --run-results value into what the
// worker reads: an http(s) or file:// URL as given, or an absolute file
// path. A relative path is resolved against the working directory and must
// exist here. An absolute path that does not exist here is passed on with
// missing=true, because it may exist where the worker runs (another
// machine or a container).
func artifactLocation(flagName, value string) (location string, missing bool, err error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return "", false, fmt.Errorf("--%s is empty: give a file path or an http(s) URL", flagName)
	}

	if scheme, _, ok := strings.Cut(value, "://"); ok {
		u, err := url.Parse(value)
		if err != nil {
			return "", false, fmt.Errorf("--%s=%q is not a valid URL: %v", flagName, value, err)
		}
		switch strings.ToLower(scheme) {
		case "http", "https":
		case "file":
			// The worker reads file:// URLs as paths on its own machine.
			return value, false, nil
		default:
			return "", false, fmt.Errorf("--%s=%q uses scheme %q: the worker reads files, file:// and http(s) URLs only; download the artifact first", flagName, value, scheme)
		}
		if u.Host == "" {
			return "", false, fmt.Errorf("--%s=%q has no host", flagName, value)
		}
		return value, false, nil
	}

	if filepath.IsAbs(value) {
		info, err := os.Stat(value)
		if err != nil {
			return value, true, nil
		}
		if info.IsDir() {
			return "", false, fmt.Errorf("--%s=%s is a directory: give the path of the file (such as target/%s.json)", flagName, value, strings.ReplaceAll(flagName, "-", "_"))
		}
		return value, false, nil
	}

	abs, err := filepath.Abs(value)
	if err != nil {
		return "", false, fmt.Errorf("--%s=%s: %w", flagName, value, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return "", false, fmt.Errorf("--%s=%s cannot be read here (%v): give an existing path or an http(s) URL", flagName, value, err)
	}
	if info.IsDir() {
		return "", false, fmt.Errorf("--%s=%s is a directory: give the path of the file (such as target/%s.json)", flagName, value, strings.ReplaceAll(flagName, "-", "_"))
	}
	return abs, false, nil
}
