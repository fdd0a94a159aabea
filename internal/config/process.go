package config

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/sethvargo/go-envconfig"
)

// process decodes target from l and returns one problem per variable that
// failed to decode. envconfig stops at the first failure, so process masks
// the variable that failed (its field takes the default) and decodes again,
// until nothing fails. Values of fields tagged secret are never echoed.
func process(ctx context.Context, target any, l envconfig.Lookuper) []string {
	masked := map[string]bool{}
	lookup := envconfig.LookuperFunc(func(key string) (string, bool) {
		if masked[key] {
			return "", false
		}
		return l.Lookup(key)
	})

	var problems []string
	fields := reflect.TypeOf(target).Elem().NumField()
	for range fields + 1 {
		err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: target, Lookuper: lookup})
		if err == nil {
			return problems
		}

		field, cause, _ := strings.Cut(err.Error(), ": ")
		key, secret := envKey(target, field)
		if key == "" || masked[key] {
			return append(problems, err.Error())
		}
		masked[key] = true
		val, _ := l.Lookup(key)
		if secret {
			problems = append(problems, fmt.Sprintf("%s is invalid: %s", key, redact(cause, val)))
		} else {
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
	return strings.TrimSpace(key), f.Type == reflect.TypeOf(Secret(""))
}

func redact(msg, secret string) string {
	if secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, secret, "[redacted]")
}
