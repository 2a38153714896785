/* spotflow/node.h: the lifecycle of a node instance (sources, detectors,
 * linkers, writers, evaluators, trainers: everything a recipe wires).
 *
 *   create(host, params) -> self
 *   source:     pull(self, out) until it returns SPOTFLOW_DONE
 *   otherwise:  process(self, port, packet, out) for every packet that
 *               arrives, in stream order per port
 *   finish(self, out) once, after every input has ended (after the last
 *               pull for a source): whole-stream nodes emit here, writers
 *               close their files
 *   destroy(self)
 *
 * Threading: the host never calls one instance's functions concurrently; it
 * may call them from different threads one after the other. Different
 * instances (of the same plugin too) run concurrently. Inside a call, a
 * plugin may use threads of its own, sized by host->threads().
 */
#ifndef SPOTFLOW_NODE_H
#define SPOTFLOW_NODE_H

#include <stdint.h>

#include "spotflow/host.h"
#include "spotflow/packet.h"
#include "spotflow/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a node sends what it produces. Valid only during the call it was
 * passed to. */
typedef struct spotflow_emitter {
    void* host_data; /* opaque to the plugin */

    /* emit: send packet on output port `port` (index into the descriptor's
     * outputs). Ownership of the packet's tensor (its deleter) and of its
     * schema and array (their release callbacks) passes to the host whether
     * emit succeeds or not; the packet struct itself stays the caller's.
     * A non-zero return means the run is stopping: return it.
     * [thread: the thread of the call the emitter was passed to] */
    spotflow_status (*emit)(const struct spotflow_emitter* out, int32_t port, spotflow_packet* packet);
} spotflow_emitter;

/* Where a packet given to process came from. */
typedef struct spotflow_input {
    int32_t port;       /* index into the descriptor's inputs */
    int32_t edge;       /* which of the port's edges, from 0, in recipe order;
                           always 0 unless the port is SPOTFLOW_PORT_MULTIPLE */
    const char* source; /* the upstream "node.port"; valid during the call */
} spotflow_input;

typedef struct spotflow_node_vtable {
    /* create: params_json is the node's params as JSON text, already
     * validated against the plugin's schema and completed with its defaults.
     * The host table outlives the instance. Returns NULL on failure, after
     * host->set_error. Open files and check inputs here, so errors surface
     * before any data flows.
     * [main-thread] */
    void* (*create)(const spotflow_host* host, const char* params_json);

    /* pull: sources only (no input ports); emit zero or more packets.
     * Returns SPOTFLOW_OK to be called again, SPOTFLOW_DONE when exhausted,
     * or an error. The host bounds how many emitted packets are in flight
     * (backpressure), so emit a chunk per call, not the whole movie.
     * [any thread, never concurrently for one instance] */
    spotflow_status (*pull)(void* self, const spotflow_emitter* out);

    /* process: one packet arrived on input->port, through input->edge.
     * Packets of one edge arrive in stream order. The packet is borrowed,
     * read-only, and valid only for this call: copy what you keep.
     * NULL for sources.
     * [any thread, never concurrently for one instance] */
    spotflow_status (*process)(void* self, const spotflow_input* input, const spotflow_packet* packet,
                               const spotflow_emitter* out);

    /* finish: every input has ended. Emit what needs the whole stream;
     * flush and close outputs. Not called when the run is failing.
     * [any thread, never concurrently for one instance] */
    spotflow_status (*finish)(void* self, const spotflow_emitter* out);

    /* destroy: free everything. Called exactly once for every instance that
     * create returned, also when the run failed or was cancelled.
     * [main-thread] */
    void (*destroy)(void* self);
} spotflow_node_vtable;

#ifdef __cplusplus
}
#endif

#endif /* SPOTFLOW_NODE_H */
