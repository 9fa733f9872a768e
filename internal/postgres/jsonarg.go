package postgres

import "encoding/json"

// jsonArg returns v as JSON text for a jsonb parameter. Behind a transaction
// pooler pgx runs in exec (or simple protocol) mode: the server no longer
// describes a statement's parameter types to it, so pgx encodes each argument
// by its Go type alone. It has no plan for a slice of structs ("unable to encode
// []shop.SagaEvent … cannot find encode plan") and sends a []byte as bytea text
// (\x…), which is not JSON; a string goes as text of unknown type, which the
// server reads as jsonb. The same text works in every mode.
func jsonArg(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
