package cmd

import (
	"fmt"
	"io"

	"github.com/rabbitpay/rabbitpay/internal/secret"
)

// warn prints the configuration's warnings (unknown keys, a readable file
// holding a secret, failpoints on), one line each, on stderr.
func warn(w io.Writer, warnings []string) {
	for _, s := range warnings {
		fmt.Fprintln(w, "rabbitpay: warning: "+secret.Mask(s))
	}
}
