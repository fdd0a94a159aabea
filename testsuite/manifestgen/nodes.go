package manifestgen

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

var columnWords = []string{
	"customer", "order", "account", "invoice", "payment", "product", "region", "channel",
	"session", "campaign", "supplier", "shipment", "contract", "ledger", "store", "device",
}

var columnSuffixes = []string{"id", "key", "amount", "date", "ts", "status", "name", "count", "flag", "code"}

var descriptionWords = strings.Fields(`the of each record in this table is unique per day and
	comes from the upstream system after deduplication; amounts are in the reporting
	currency converted at the daily rate, null when the source did not send a value.
	Used by finance dashboards "monthly close" and the weekly revenue report (owner: data team)`)

func (g *generator) columnName(n, k int) string {
	word := columnWords[(n+k*7)%len(columnWords)]
	suffix := columnSuffixes[(n*3+k)%len(columnSuffixes)]
	return word + "_" + suffix
}

func (g *generator) description(words int) string {
	var sb strings.Builder
	for i := range words {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(descriptionWords[g.rng.IntN(len(descriptionWords))])
	}
	return sb.String()
}

// sql returns model n's raw SQL (with ref and source calls) or, when
// compiled, the SQL with the relations dbt substitutes for them.
func (g *generator) sql(n int, compiled bool, materialized string) string {
	var sb strings.Builder
	if !compiled {
		sb.WriteString("{{\n    config(\n        materialized = '" + materialized + "',\n")
		if materialized == "incremental" {
			sb.WriteString("        unique_key = '" + g.columnName(n, 0) + "',\n        incremental_strategy = 'merge',\n")
		}
		sb.WriteString("        tags = ['nightly', \"finance\"]\n    )\n}}\n\n")
	}

	sb.WriteString("-- model_" + strconv.Itoa(n) + ": generated for load tests\nwith\n")
	upstream := 0
	for _, d := range g.sourceDeps[n] {
		db, schema, table := SourceRelation(int(d))
		name := "src_" + strconv.Itoa(upstream)
		sb.WriteString(name + " as (\n    select * from ")
		if compiled {
			sb.WriteString(db + "." + schema + "." + table)
		} else {
			sb.WriteString("{{ source('" + SourceName(int(d)) + "', '" + table + "') }}")
		}
		sb.WriteString("\n    where _loaded_at > dateadd(day, -3, current_timestamp)\n),\n\n")
		upstream++
	}
	for _, d := range g.modelDeps[n] {
		name := "src_" + strconv.Itoa(upstream)
		sb.WriteString(name + " as (\n    select * from ")
		if compiled {
			db, schema, table := ModelRelation(g.p.Schemas, int(d))
			sb.WriteString(db + "." + schema + "." + table)
		} else {
			sb.WriteString("{{ ref('model_" + strconv.Itoa(int(d)) + "') }}")
		}
		sb.WriteString("\n),\n\n")
		upstream++
	}

	sb.WriteString("final as (\n    select\n")
	for k := range g.p.Columns {
		col := g.columnName(n, k)
		sb.WriteString("        src_0." + col)
		if k < g.p.Columns-1 {
			sb.WriteString(",\n")
		}
	}
	sb.WriteString("\n    from src_0\n")
	for u := 1; u < upstream; u++ {
		sb.WriteString("    left join src_" + strconv.Itoa(u) + " using (" + g.columnName(n, 0) + ")\n")
	}
	sb.WriteString("    where src_0." + g.columnName(n, 1) + " <> 'test' and amount >= " + strconv.Itoa(g.rng.IntN(1000)) + "\n)\n\nselect * from final\n")
	return sb.String()
}

func (g *generator) model(n int) {
	p := g.p
	materialized, enabled := ModelState(n)
	db, schema, alias := ModelRelation(p.Schemas, n)
	name := "model_" + strconv.Itoa(n)
	id := g.modelID(n)
	dir := "marts/area_" + strconv.Itoa(n%p.Schemas)
	b := g.buf

	b = append(b, `{"database": `...)
	b = appendString(b, db)
	b = append(b, `, "schema": `...)
	b = appendString(b, schema)
	b = append(b, `, "name": `...)
	b = appendString(b, name)
	b = append(b, `, "resource_type": "model", "package_name": `...)
	b = appendString(b, p.Project)
	b = append(b, `, "path": `...)
	b = appendString(b, dir+"/"+name+".sql")
	b = append(b, `, "original_file_path": `...)
	b = appendString(b, "models/"+dir+"/"+name+".sql")
	b = append(b, `, "unique_id": `...)
	b = appendString(b, id)
	b = append(b, `, "fqn": [`...)
	b = appendString(b, p.Project)
	b = append(b, `, "marts", `...)
	b = appendString(b, "area_"+strconv.Itoa(n%p.Schemas))
	b = append(b, `, `...)
	b = appendString(b, name)
	b = append(b, `], "alias": `...)
	b = appendString(b, alias)
	b = append(b, `, "checksum": {"name": "sha256", "checksum": `...)
	b = appendString(b, g.hex(64))
	b = append(b, `}, "config": {"enabled": `...)
	b = strconv.AppendBool(b, enabled)
	b = append(b, `, "alias": null, "schema": null, "database": null, "tags": ["nightly", "finance"], "meta": {"owner": "data-team@example.com"}, "group": null, "materialized": `...)
	b = appendString(b, materialized)
	b = append(b, `, "incremental_strategy": null, "persist_docs": {"relation": true, "columns": true}, "post-hook": [], "pre-hook": [], "quoting": {}, "column_types": {}, "full_refresh": null, "unique_key": null, "on_schema_change": "ignore", "on_configuration_change": "apply", "grants": {}, "packages": [], "docs": {"show": true, "node_color": null}, "contract": {"enforced": false, "alias_types": true}, "access": "protected", "copy_grants": true}, "tags": ["nightly", "finance"], "description": `...)
	b = appendString(b, g.description(10+g.rng.IntN(16)))
	b = append(b, `, "columns": {`...)
	for k := range p.Columns {
		if k > 0 {
			b = append(b, ", "...)
		}
		col := g.columnName(n, k)
		b = appendString(b, col)
		b = append(b, `: {"name": `...)
		b = appendString(b, col)
		b = append(b, `, "description": `...)
		b = appendString(b, g.description(6+g.rng.IntN(10)))
		b = append(b, `, "meta": {}, "data_type": null, "constraints": [], "quote": null, "tags": []}`...)
	}
	b = append(b, `}, "meta": {"owner": "data-team@example.com"}, "group": null, "docs": {"show": true, "node_color": null}, "patch_path": `...)
	b = appendString(b, p.Project+"://models/"+dir+"/schema.yml")
	b = append(b, `, "build_path": null, "unrendered_config": {"materialized": `...)
	b = appendString(b, materialized)
	b = append(b, `, "tags": ["nightly", "finance"]}, "created_at": `...)
	b = strconv.AppendFloat(b, g.createdAt(), 'f', 7, 64)
	b = append(b, `, "relation_name": `...)
	if materialized == "ephemeral" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, db+"."+schema+"."+alias)
	}
	b = append(b, `, "raw_code": `...)
	b = appendString(b, g.sql(n, false, materialized))
	b = append(b, `, "language": "sql", "refs": [`...)
	for i, d := range g.modelDeps[n] {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"name": `...)
		b = appendString(b, "model_"+strconv.Itoa(int(d)))
		b = append(b, `, "package": null, "version": null}`...)
	}
	b = append(b, `], "sources": [`...)
	for i, d := range g.sourceDeps[n] {
		if i > 0 {
			b = append(b, ", "...)
		}
		_, _, table := SourceRelation(int(d))
		b = append(b, '[')
		b = appendString(b, SourceName(int(d)))
		b = append(b, ", "...)
		b = appendString(b, table)
		b = append(b, ']')
	}
	b = append(b, `], "metrics": [], "depends_on": {"macros": ["macro.dbt.run_query"], "nodes": [`...)
	b = g.appendDependsOn(b, n)
	b = append(b, `]}, "compiled_path": `...)
	b = appendString(b, "target/compiled/"+p.Project+"/models/"+dir+"/"+name+".sql")
	b = append(b, `, "compiled": true, "compiled_code": `...)
	b = appendString(b, g.sql(n, true, materialized))
	b = append(b, `, "extra_ctes_injected": true, "extra_ctes": [], "contract": {"enforced": false, "alias_types": true, "checksum": null}, "access": "protected", "constraints": [], "version": null, "latest_version": null, "deprecation_date": null}`...)
	g.buf = b
}

func (g *generator) appendDependsOn(b []byte, n int) []byte {
	first := true
	for _, d := range g.sourceDeps[n] {
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = appendString(b, g.sourceID(int(d)))
	}
	for _, d := range g.modelDeps[n] {
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = appendString(b, g.modelID(int(d)))
	}
	return b
}

var testKinds = []string{"not_null", "unique", "accepted_values"}

func (g *generator) test(n, t int) {
	p := g.p
	kind := testKinds[t%len(testKinds)]
	col := g.columnName(n, t)
	model := "model_" + strconv.Itoa(n)
	name := kind + "_" + model + "_" + col
	id := "test." + p.Project + "." + name + "." + g.hex(10)
	g.testIDs[n] = append(g.testIDs[n], id)

	b := g.buf
	b = appendString(b, id)
	b = append(b, `: {"database": "ANALYTICS", "schema": "dbt_test__audit", "name": `...)
	b = appendString(b, name)
	b = append(b, `, "resource_type": "test", "package_name": `...)
	b = appendString(b, p.Project)
	b = append(b, `, "path": `...)
	b = appendString(b, name+".sql")
	b = append(b, `, "original_file_path": "models/marts/schema.yml", "unique_id": `...)
	b = appendString(b, id)
	b = append(b, `, "fqn": [`...)
	b = appendString(b, p.Project)
	b = append(b, `, "marts", `...)
	b = appendString(b, name)
	b = append(b, `], "alias": `...)
	b = appendString(b, name)
	b = append(b, `, "checksum": {"name": "none", "checksum": ""}, "config": {"enabled": true, "alias": null, "schema": "dbt_test__audit", "database": null, "tags": [], "meta": {}, "group": null, "materialized": "test", "severity": "ERROR", "store_failures": null, "store_failures_as": null, "where": null, "limit": null, "fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0"}, "tags": [], "description": "", "columns": {}, "meta": {}, "group": null, "docs": {"show": true, "node_color": null}, "patch_path": null, "build_path": null, "unrendered_config": {}, "created_at": `...)
	b = strconv.AppendFloat(b, g.createdAt(), 'f', 7, 64)
	b = append(b, `, "relation_name": null, "raw_code": `...)
	b = appendString(b, "{{ test_"+kind+"(**_dbt_generic_test_kwargs) }}")
	b = append(b, `, "language": "sql", "refs": [{"name": `...)
	b = appendString(b, model)
	b = append(b, `, "package": null, "version": null}], "sources": [], "metrics": [], "depends_on": {"macros": ["macro.dbt.test_`...)
	b = append(b, kind...)
	b = append(b, `"], "nodes": [`...)
	b = appendString(b, g.modelID(n))
	b = append(b, `]}, "compiled_path": null, "contract": {"enforced": false, "alias_types": true, "checksum": null}, "column_name": `...)
	b = appendString(b, col)
	b = append(b, `, "file_key_name": `...)
	b = appendString(b, "models."+model)
	b = append(b, `, "attached_node": `...)
	b = appendString(b, g.modelID(n))
	b = append(b, `, "test_metadata": {"name": `...)
	b = appendString(b, kind)
	b = append(b, `, "kwargs": {"column_name": `...)
	b = appendString(b, col)
	b = append(b, `, "model": `...)
	b = appendString(b, "{{ get_where_subquery(ref('"+model+"')) }}")
	b = append(b, `}, "namespace": null}}`...)
	g.buf = b
}

func (g *generator) source(n int) {
	p := g.p
	db, schema, table := SourceRelation(n)
	id := g.sourceID(n)
	group := SourceName(n)

	b := g.buf
	b = appendString(b, id)
	b = append(b, `: {"database": `...)
	b = appendString(b, db)
	b = append(b, `, "schema": `...)
	b = appendString(b, schema)
	b = append(b, `, "name": `...)
	b = appendString(b, table)
	b = append(b, `, "resource_type": "source", "package_name": `...)
	b = appendString(b, p.Project)
	b = append(b, `, "path": "models/staging/sources.yml", "original_file_path": "models/staging/sources.yml", "unique_id": `...)
	b = appendString(b, id)
	b = append(b, `, "fqn": [`...)
	b = appendString(b, p.Project)
	b = append(b, `, "staging", `...)
	b = appendString(b, group)
	b = append(b, `, `...)
	b = appendString(b, table)
	b = append(b, `], "source_name": `...)
	b = appendString(b, group)
	b = append(b, `, "source_description": `...)
	b = appendString(b, g.description(12))
	b = append(b, `, "loader": "fivetran", "identifier": `...)
	b = appendString(b, table)
	b = append(b, `, "quoting": {"database": null, "schema": null, "identifier": null, "column": null}, "loaded_at_field": "_loaded_at", "freshness": {"warn_after": {"count": 12, "period": "hour"}, "error_after": {"count": 24, "period": "hour"}, "filter": null}, "external": null, "description": `...)
	b = appendString(b, g.description(16))

	b = append(b, `, "columns": {`...)
	for k := range 2 {
		if k > 0 {
			b = append(b, ", "...)
		}
		col := g.columnName(n, k)
		b = appendString(b, col)
		b = append(b, `: {"name": `...)
		b = appendString(b, col)
		b = append(b, `, "description": `...)
		b = appendString(b, g.description(10))
		b = append(b, `, "meta": {}, "data_type": null, "constraints": [], "quote": null, "tags": []}`...)
	}
	b = append(b, `}, "meta": {}, "source_meta": {}, "tags": [], "config": {"enabled": true}, "patch_path": null, "unrendered_config": {}, "relation_name": `...)
	b = appendString(b, db+"."+schema+"."+table)
	b = append(b, `, "created_at": `...)
	b = strconv.AppendFloat(b, g.createdAt(), 'f', 7, 64)
	b = append(b, '}')
	g.buf = b
}

func (g *generator) macro(n int) {
	p := g.p
	name := "helper_" + strconv.Itoa(n)
	id := "macro." + p.Project + "." + name
	b := g.buf
	b = appendString(b, id)
	b = append(b, `: {"name": `...)
	b = appendString(b, name)
	b = append(b, `, "resource_type": "macro", "package_name": `...)
	b = appendString(b, p.Project)
	b = append(b, `, "path": "macros/helpers.sql", "original_file_path": "macros/helpers.sql", "unique_id": `...)
	b = appendString(b, id)
	b = append(b, `, "macro_sql": `...)
	b = appendString(b, "{% macro "+name+"(column_name, fallback=none) -%}\n    {%- if fallback is none -%}\n        coalesce({{ column_name }}, '')\n    {%- else -%}\n        coalesce({{ column_name }}, {{ fallback }})\n    {%- endif -%}\n{%- endmacro %}")
	b = append(b, `, "depends_on": {"macros": []}, "description": `...)
	b = appendString(b, g.description(10))
	b = append(b, `, "meta": {}, "docs": {"show": true, "node_color": null}, "patch_path": null, "arguments": [], "created_at": `...)
	b = strconv.AppendFloat(b, g.createdAt(), 'f', 7, 64)
	b = append(b, `, "supported_languages": null}`...)
	g.buf = b
}

func (g *generator) exposureID(n int) string {
	return "exposure." + g.p.Project + ".dashboard_" + strconv.Itoa(n)
}

// exposureModel returns the model hand-written exposure n depends on.
func (g *generator) exposureModel(n int) int {
	m := (n*7919 + g.p.Models/2) % g.p.Models
	if _, enabled := ModelState(m); !enabled {
		m--
	}
	return m
}

func (g *generator) exposure(n int) {
	p := g.p
	name := "dashboard_" + strconv.Itoa(n)
	id := g.exposureID(n)
	b := g.buf
	b = appendString(b, id)
	b = append(b, `: {"name": `...)
	b = appendString(b, name)
	b = append(b, `, "resource_type": "exposure", "package_name": `...)
	b = appendString(b, p.Project)
	b = append(b, `, "path": "exposures.yml", "original_file_path": "models/exposures.yml", "unique_id": `...)
	b = appendString(b, id)
	b = append(b, `, "fqn": [`...)
	b = appendString(b, p.Project)
	b = append(b, `, `...)
	b = appendString(b, name)
	b = append(b, `], "type": "dashboard", "owner": {"email": "bi@example.com", "name": "BI team"}, "description": "Hand-written exposure", "label": `...)
	b = appendString(b, "Dashboard "+strconv.Itoa(n))
	b = append(b, `, "maturity": "high", "meta": {"source": "hand-written"}, "tags": ["bi"], "config": {"enabled": true}, "unrendered_config": {}, "url": `...)
	b = appendString(b, "https://tableau.example.com/#/site/acme/workbooks/"+strconv.Itoa(1000+n))
	b = append(b, `, "depends_on": {"macros": [], "nodes": [`...)
	b = appendString(b, g.modelID(g.exposureModel(n)))
	b = append(b, `]}, "refs": [{"name": `...)
	b = appendString(b, "model_"+strconv.Itoa(g.exposureModel(n)))
	b = append(b, `, "package": null, "version": null}], "sources": [], "metrics": [], "created_at": `...)
	b = strconv.AppendFloat(b, g.createdAt(), 'f', 7, 64)
	b = append(b, '}')
	g.buf = b
}

func (g *generator) parentMap() {
	first := true
	for n := range g.p.Models {
		if _, enabled := ModelState(n); !enabled {
			continue
		}
		g.separator(&first)
		g.buf = appendString(g.buf, g.modelID(n))
		g.buf = append(g.buf, ": ["...)
		g.buf = g.appendDependsOn(g.buf, n)
		g.buf = append(g.buf, ']')
		for _, id := range g.testIDs[n] {
			g.buf = append(g.buf, ", "...)
			g.buf = appendString(g.buf, id)
			g.buf = append(g.buf, ": ["...)
			g.buf = appendString(g.buf, g.modelID(n))
			g.buf = append(g.buf, ']')
		}
		g.flush()
	}
	for n := range g.p.Sources {
		g.separator(&first)
		g.buf = appendString(g.buf, g.sourceID(n))
		g.buf = append(g.buf, ": []"...)
		g.flush()
	}
	for n := range g.p.Exposures {
		g.separator(&first)
		g.buf = appendString(g.buf, g.exposureID(n))
		g.buf = append(g.buf, ": ["...)
		g.buf = appendString(g.buf, g.modelID(g.exposureModel(n)))
		g.buf = append(g.buf, ']')
		g.flush()
	}
}

func (g *generator) childMap() {
	p := g.p
	modelChildren := make([][]string, p.Models)
	sourceChildren := make([][]string, p.Sources)
	for n := range p.Models {
		if _, enabled := ModelState(n); !enabled {
			continue
		}
		for _, d := range g.modelDeps[n] {
			modelChildren[d] = append(modelChildren[d], g.modelID(n))
		}
		for _, d := range g.sourceDeps[n] {
			sourceChildren[d] = append(sourceChildren[d], g.modelID(n))
		}
		modelChildren[n] = append(modelChildren[n], g.testIDs[n]...)
	}
	for n := range p.Exposures {
		m := g.exposureModel(n)
		modelChildren[m] = append(modelChildren[m], g.exposureID(n))
	}
	list := func(id string, children []string) {
		g.buf = appendString(g.buf, id)
		g.buf = append(g.buf, ": ["...)
		for i, c := range children {
			if i > 0 {
				g.buf = append(g.buf, ", "...)
			}
			g.buf = appendString(g.buf, c)
		}
		g.buf = append(g.buf, ']')
	}
	first := true
	for n := range p.Models {
		if _, enabled := ModelState(n); !enabled {
			continue
		}
		g.separator(&first)
		list(g.modelID(n), modelChildren[n])
		for _, id := range g.testIDs[n] {
			g.buf = append(g.buf, ", "...)
			list(id, nil)
		}
		g.flush()
	}
	for n := range p.Sources {
		g.separator(&first)
		list(g.sourceID(n), sourceChildren[n])
		g.flush()
	}
	for n := range p.Exposures {
		g.separator(&first)
		list(g.exposureID(n), nil)
		g.flush()
	}
}

// appendString appends s as a JSON string, escaping as Python's json.dumps
// does with ensure_ascii off: quotes, backslashes and control characters.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			_, size := utf8.DecodeRuneInString(s[i:])
			b = append(b, s[i:i+size]...)
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}
