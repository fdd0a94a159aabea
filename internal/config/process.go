package config

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/sethvargo/go-envconfig"
)

// Decode fills target, a pointer to a struct with env tags, from l and
// returns one problem per variable that failed to decode or is required and
// missing. envconfig stops at the first failure, so Decode masks the
// variable that failed (its field takes the default) and decodes again,
// until nothing fails. The value of a field of type Secret, or whose name
// ends in Secret, is never shown.
func Decode(ctx context.Context, target any, l envconfig.Lookuper) []string {
	return process(ctx, target, l)
}

func process(ctx context.Context, target any, l envconfig.Lookuper) []string {
	// masked holds the variables that failed: a first retry sees them set
	// to the empty string, which satisfies "required"; a second sees them
	// unset, which gives the field its default.
	masked := map[string]int{}
	lookup := envconfig.LookuperFunc(func(key string) (string, bool) {
		switch masked[key] {
		case 1:
			return "", true
		case 2:
			return "", false
		}
		return l.Lookup(key)
	})

	var problems []string
	fields := reflect.TypeOf(target).Elem().NumField()
	for range 2*fields + 1 {
		err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: target, Lookuper: lookup})
		if err == nil {
			return problems
		}

		field, cause, _ := strings.Cut(err.Error(), ": ")
		key, secret := envKey(target, field)
		if key == "" || masked[key] >= 2 {
			return append(problems, err.Error())
		}
		masked[key]++
		if masked[key] > 1 {
			// The empty string failed too; the problem is already listed.
			continue
		}
		val, _ := l.Lookup(key)
		switch {
		case errors.Is(err, envconfig.ErrMissingRequired):
			problems = append(problems, fmt.Sprintf("%s is missing: set it", key))
		case secret:
			problems = append(problems, fmt.Sprintf("%s is invalid: %s", key, redact(cause, val)))
		default:
			problems = append(problems, fmt.Sprintf("%s=%q is invalid: %s", key, val, cause))
		}
	}
	return problems
}

// envKey returns the variable name of the struct field and whether the
// field holds a secret.
func envKey(target any, field string) (string, bool) {
	f, ok := reflect.TypeOf(target).Elem().FieldByName(field)
	if !ok {
		return "", false
	}
	key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
	secret := f.Type == reflect.TypeOf(Secret("")) || strings.HasSuffix(f.Name, "Secret")
	return strings.TrimSpace(key), secret
}

func redact(msg, secret string) string {
	if secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, secret, "[redacted]")
}
