// Command sluice is the single Sluice binary: `sluice dev` runs everything in
// one process on embedded defaults, `sluice server` and `sluice worker` are the
// production roles, and the remaining commands are the CLI.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
