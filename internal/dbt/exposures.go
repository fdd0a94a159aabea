package dbt

import (
	"slices"
	"strconv"
)

// exposures reads the exposures section. Exposures in the disabled section
// are not read, because a disabled hand-written exposure should not stop an
// automatic one from being written.
func (mr *manifestReader) exposures() error {
	s := mr.s
	if null, err := s.isNull(); null || err != nil {
		return err
	}
	if err := s.expectObject(""); err != nil {
		return err
	}
	return s.object(func(key []byte) error {
		id := string(key)
		e, err := mr.exposure(id)
		if err != nil {
			return withPath(err, "["+strconv.Quote(id)+"]")
		}
		mr.m.Exposures = append(mr.m.Exposures, e)
		return nil
	})
}

func (mr *manifestReader) exposure(id string) (Exposure, error) {
	s := mr.s
	e := Exposure{UniqueID: id}
	var configMeta map[string]any
	var configTags []string

	str := func(field string, dst *string) error {
		b, _, err := s.stringOrNull(field)
		*dst = string(b)
		return err
	}
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "name":
			return str("name", &e.Name)
		case "package_name":
			return str("package_name", &e.PackageName)
		case "type":
			return str("type", &e.Type)
		case "url":
			return str("url", &e.URL)
		case "meta":
			return s.meta("meta", &e.Meta)
		case "tags":
			return s.stringList("tags", func(b []byte) { e.Tags = append(e.Tags, string(b)) })
		case "depends_on":
			return mr.dependsOn("depends_on", func(b []byte) { e.DependsOn = append(e.DependsOn, string(b)) })
		case "config":
			return s.exposureConfig(&configMeta, &configTags)
		}
		return s.skipValue()
	})
	if err != nil {
		return e, err
	}

	// dbt 1.10 and later keep meta and tags under config; earlier versions
	// at the top. Where both are set, config wins for a meta key, and tags
	// are the union in order of first appearance.
	if len(configMeta) > 0 {
		if e.Meta == nil {
			e.Meta = map[string]any{}
		}
		for k, v := range configMeta {
			e.Meta[k] = v
		}
	}
	for _, tag := range configTags {
		if !slices.Contains(e.Tags, tag) {
			e.Tags = append(e.Tags, tag)
		}
	}
	return e, nil
}

// exposureConfig reads meta and tags from an exposure's config.
func (s *scanner) exposureConfig(meta *map[string]any, tags *[]string) error {
	if null, err := s.isNull(); null || err != nil {
		return err
	}
	if err := s.expectObject("config"); err != nil {
		return err
	}
	return s.object(func(key []byte) error {
		switch string(key) {
		case "meta":
			return s.meta("config.meta", meta)
		case "tags":
			return s.stringList("config.tags", func(b []byte) { *tags = append(*tags, string(b)) })
		}
		return s.skipValue()
	})
}

// meta reads a meta object, or null, with all its values.
func (s *scanner) meta(field string, dst *map[string]any) error {
	if null, err := s.isNull(); null || err != nil {
		return err
	}
	if err := s.expectObject(field); err != nil {
		return err
	}
	v, err := s.readValue()
	if err != nil {
		return withPath(err, field)
	}
	*dst = v.(map[string]any)
	return nil
}
