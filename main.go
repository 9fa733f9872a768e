// Command rabbitpay is a command-line shop administration tool over PostgreSQL.
package main

import (
	"os"

	"github.com/rabbitpay/rabbitpay/cmd"
)

func main() { os.Exit(cmd.Main()) }
