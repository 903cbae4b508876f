package bench

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/sluicehq/sluice/internal/sink"
)

// httpsReceiver starts an in-process TLS server that reads every request
// body and answers 200, and returns an https sink spec aimed at it. Its
// CPU is part of the measured process, as a receiver on the same machine
// would be.
func httpsReceiver() (sink.Spec, sink.Env, func(), error) {
	var bytes atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		bytes.Add(n)
		w.WriteHeader(http.StatusOK)
	}))
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	spec := sink.Spec{Type: "https", Settings: map[string]any{"url": srv.URL + "/ingest", "caPEM": string(ca)}}
	return spec, sink.Env{AllowPrivate: true}, srv.Close, nil
}
