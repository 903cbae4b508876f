package main

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envPrefix prefixes the environment variable that can set each flag:
// --kafka-listen is also SLUICE_KAFKA_LISTEN. A flag given on the command
// line wins over the environment.
const envPrefix = "SLUICE_"

func newRootCmd() *cobra.Command {
	var logLevel, logFormat string
	root := &cobra.Command{
		Use:   "sluice",
		Short: "Streaming SQL subscriptions over tenants' Kafka topics",
		Long: `Sluice runs SQL subscriptions over tenants' Kafka topics as streaming jobs and
keeps them correct while partitions grow, topics migrate, schemas evolve and
subscriptions are edited.

Flags of the server commands (dev, server, worker), --log-level, --log-format,
and the client commands' --server and --timeout can also be set through an
environment variable: SLUICE_ followed by the flag name in upper case with
dashes as underscores (--http is SLUICE_HTTP). --help names it beside each flag.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return err
			}
			return setupLogging(cmd, logLevel, logFormat)
		},
	}
	root.PersistentFlags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&logFormat, "log-format", "text", "log format: text or json")
	root.AddCommand(newDevCmd(), newServerCmd(), newWorkerCmd(), newVersionCmd(), newOpenAPICmd(), newBenchCmd(), newReceiveCmd())
	addClientCommands(root)
	annotateEnv(root)
	return root
}

// noEnvAnnotation marks a flag that no environment variable sets: the
// per-command flags of client commands (--output, --state, --yes…), whose
// generic names would otherwise collide across commands, and make an
// exported SLUICE_YES confirm every delete.
const noEnvAnnotation = "sluice_no_env"

func envBound(f *pflag.Flag) bool {
	_, skip := f.Annotations[noEnvAnnotation]
	return f.Name != "help" && !skip
}

// noEnvExcept marks every flag of cmd and its subcommands as not set from
// the environment, except those named in keep.
func noEnvExcept(cmd *cobra.Command, keep ...string) {
	mark := func(f *pflag.Flag) {
		if !slices.Contains(keep, f.Name) {
			if f.Annotations == nil {
				f.Annotations = map[string][]string{}
			}
			f.Annotations[noEnvAnnotation] = nil
		}
	}
	cmd.PersistentFlags().VisitAll(mark)
	cmd.Flags().VisitAll(mark)
	for _, c := range cmd.Commands() {
		noEnvExcept(c, keep...)
	}
}

// envName is the environment variable that sets the flag called name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// annotateEnv appends each flag's environment variable to its usage, so
// --help documents both ways of setting it.
func annotateEnv(cmd *cobra.Command) {
	add := func(f *pflag.Flag) {
		if !envBound(f) || strings.Contains(f.Usage, "[$") {
			return
		}
		f.Usage += " [$" + envName(f.Name) + "]"
	}
	cmd.PersistentFlags().VisitAll(add)
	cmd.Flags().VisitAll(add)
	for _, c := range cmd.Commands() {
		annotateEnv(c)
	}
}

// applyEnv sets every flag not given on the command line from its environment
// variable, if that is set.
func applyEnv(flags *pflag.FlagSet) error {
	var err error
	flags.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || !envBound(f) {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok {
			return
		}
		if serr := flags.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("environment variable %s: %w", envName(f.Name), serr)
		}
	})
	return err
}

func setupLogging(cmd *cobra.Command, level, format string) error {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(cmd.ErrOrStderr(), opts)
	case "json":
		h = slog.NewJSONHandler(cmd.ErrOrStderr(), opts)
	default:
		return fmt.Errorf("--log-format %q: want text or json", format)
	}
	slog.SetDefault(slog.New(h))
	return nil
}
