//go:build !(linux || darwin)

package kafkatest

import (
	"context"
	"errors"
	"runtime"
	"syscall"
	"time"
)

// The harness manages brokers as Unix process groups; elsewhere only the
// kfake helpers work.
var errUnsupported = errors.New("kafkatest: the Kafka harness runs on Linux and macOS only, not " + runtime.GOOS)

func detachedProcAttr() *syscall.SysProcAttr { return nil }

func signalGroup(int, bool) error { return errUnsupported }

func processCmdline(int) (string, bool) { return "", false }

func lockDir(context.Context, string, time.Duration) (func(), error) {
	return nil, errUnsupported
}
