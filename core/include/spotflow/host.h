/* spotflow/host.h: the services the host offers a plugin instance.
 *
 * Like DuckDB's extension API, the plugin receives a versioned table of host
 * functions and links nothing from the host: a plugin library has no
 * undefined symbols of spotflow's own.
 *
 * One spotflow_host is made per node instance (and one per loss instance a
 * trainer creates); it stays valid from create until destroy returns. Every
 * function takes the table itself first.
 *
 * Each function is annotated like CLAP's API:
 *   [thread-safe]  callable from any thread, concurrently, at any time
 *                  between create and the end of destroy;
 *   [main-thread]  only from the call the note names.
 * and says who owns what crosses: strings and buffers passed in are
 * borrowed for the call only (the host copies what it keeps); pointers
 * returned are owned by the host, valid until the instance's destroy
 * returns unless the note says otherwise.
 *
 * Added in 1.1 (check host->abi.minor >= 1 before calling): publish_output,
 * plugin_dir.
 */
#ifndef SPOTFLOW_HOST_H
#define SPOTFLOW_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "spotflow/status.h"
#include "spotflow/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t spotflow_log_level;
enum {
    SPOTFLOW_LOG_DEBUG = 0,
    SPOTFLOW_LOG_INFO = 1,
    SPOTFLOW_LOG_WARNING = 2,
    SPOTFLOW_LOG_ERROR = 3
};

struct spotflow_loss_instance; /* spotflow/loss.h */

typedef struct spotflow_host {
    /* The ABI this host speaks. Functions added in a later minor are present
     * only when abi.minor says so (see spotflow/version.h). */
    spotflow_abi_version abi;
    void* host_data; /* opaque to the plugin */

    /* log: a one-line message, UTF-8. message is borrowed for the call and
     * copied by the host.
     * [thread-safe] */
    void (*log)(const struct spotflow_host* host, spotflow_log_level level, const char* message);

    /* progress: how far this node is, done of total units (total <= 0 if
     * unknown), e.g. frames. Cheap; call as often as once per chunk. Nothing
     * crosses but the two numbers.
     * [thread-safe] */
    void (*progress)(const struct spotflow_host* host, int64_t done, int64_t total);

    /* is_cancelled: non-zero once the run is stopping (an error elsewhere,
     * Ctrl-C). Long loops poll it and return SPOTFLOW_ERR_CANCELLED. No
     * ownership crosses.
     * [thread-safe] */
    int32_t (*is_cancelled)(const struct spotflow_host* host);

    /* set_error: the reason for the failure the plugin is about to return,
     * one line naming the cause (file, parameter, frame). message is
     * borrowed for the call and copied; the last message before the failing
     * return wins.
     * [thread-safe] */
    void (*set_error)(const struct spotflow_host* host, spotflow_status status, const char* message);

    /* output_path: where to write the output file `name` (a file name
     * relative to the run's output folder, e.g. "tracks.csv"). The host writes
     * a temporary path into buf (NUL-terminated); the file is renamed to its
     * final name only when the whole run succeeds (or when the plugin
     * publishes it, see publish_output), and removed otherwise, so a failed
     * run leaves no partial output. Returns SPOTFLOW_ERR_INVALID_ARGUMENT for
     * a name that escapes the output folder or is claimed twice (by another
     * node, or by this one while its earlier claim is unpublished), and
     * SPOTFLOW_ERR_IO if buf is too small or the folder is not writable.
     * name is borrowed for the call; buf (buf_size bytes) is the caller's.
     * The plugin owns the file it writes at that path until the run ends.
     * [thread-safe] */
    spotflow_status (*output_path)(const struct spotflow_host* host, const char* name, char* buf, size_t buf_size);

    /* threads: how many threads the user allows (--threads). Plugins with
     * their own pools (LibTorch, TBB arenas) size them from this. No
     * ownership crosses.
     * [thread-safe] */
    int32_t (*threads)(const struct spotflow_host* host);

    /* seed: the run's seed mixed with this node's id, so that each node has
     * its own reproducible stream. No ownership crosses. [thread-safe] */
    uint64_t (*seed)(const struct spotflow_host* host);

    /* create_loss: instantiate the loss plugin `plugin_id` with params as
     * JSON text (validated against its schema and completed with defaults).
     * plugin_id and params_json are borrowed for the call; out is the
     * caller's. On success the instance out->self is owned by the caller,
     * who calls out->loss->destroy(out->self) before its own destroy
     * returns; out->loss is a host-owned copy of the loss's vtable, valid
     * until the caller's destroy returns, always of this header's full size:
     * functions the loss's library does not have (built for an older minor)
     * are NULL there. The loss gets a host table of its own (its plugin_dir
     * is the loss library's folder; its log, errors and outputs are the
     * calling node's). On failure the reason has been reported through
     * set_error.
     * [thread-safe; in practice from within the node's create] */
    spotflow_status (*create_loss)(const struct spotflow_host* host, const char* plugin_id,
                                   const char* params_json, struct spotflow_loss_instance* out);

    /* input_count: how many edges the recipe connects to input port `port`
     * (0 for an unconnected optional input). Known from create on, e.g. for
     * an evaluator comparing one track set per tracker. No ownership
     * crosses. [thread-safe] */
    int32_t (*input_count)(const struct spotflow_host* host, int32_t port);

    /* input_source: the upstream "node.port" of edge `edge` of input `port`,
     * or NULL if there is no such edge. The string is owned by the host,
     * valid until destroy returns. [thread-safe] */
    const char* (*input_source)(const struct spotflow_host* host, int32_t port, int32_t edge);

    /* branch_seconds: the time spent so far inside the plugins of the nodes
     * that feed edge `edge` of input `port` and no other edge of that port:
     * for an evaluator comparing trackers that share one detector, each
     * tracker branch's own cost (linker + gap filler), without the shared
     * part. Complete once that edge has ended (e.g. in finish); -1 for no
     * such edge. No ownership crosses. [thread-safe] */
    double (*branch_seconds)(const struct spotflow_host* host, int32_t port, int32_t edge);

    /* ---- 1.1: present only when host->abi.minor >= 1 ---- */

    /* publish_output: make the output `name`, which this node claimed with
     * output_path and has written and closed, final now instead of when the
     * run succeeds: the file is renamed into place at once (atomically,
     * replacing an earlier published version), and it stays even if the run
     * fails later; run.json lists it under "published" and a failed run's
     * "outputs". For a trainer's checkpoints. The node may call output_path
     * for the same name again to write a newer version (a new temporary
     * path, under the usual no-partial-output rule until published again).
     * Unpublished outputs keep that rule. Returns
     * SPOTFLOW_ERR_INVALID_ARGUMENT for a name this node has not claimed or
     * has already published since its last claim, SPOTFLOW_ERR_IO if nothing
     * was written at the path or the rename fails (reason via set_error).
     * name is borrowed for the call; the plugin must not write the file at
     * the old temporary path afterwards.
     * [thread-safe] */
    spotflow_status (*publish_output)(const struct spotflow_host* host, const char* name);

    /* plugin_dir: the absolute folder of the library that holds this
     * instance's plugin (for a loss, the loss's library), without a trailing
     * slash, UTF-8: where a plugin finds the weights and files it ships
     * beside its .so. Owned by the host, valid until destroy returns.
     * [thread-safe] */
    const char* (*plugin_dir)(const struct spotflow_host* host);

    /* record: adds key: value (JSON text, e.g. "{\"kind\": \"emccd\"}" or
     * "true") to this node's entry in run.json, e.g. the camera a detector
     * used and whether it was estimated. A later call with the same key
     * replaces the value; text that is not JSON is stored as a string.
     * [thread-safe] */
    void (*record)(const struct spotflow_host* host, const char* key, const char* json_value);
} spotflow_host;

#ifdef __cplusplus
}
#endif

#endif /* SPOTFLOW_HOST_H */
