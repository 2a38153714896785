/* spotflow/packet.h: the unit of data that flows along a recipe's edges.
 *
 * A packet carries either an n-d array as a DLPack tensor (movie chunks,
 * masks, model tensors) or a table as an Arrow C record batch (detections,
 * tracks, traces, events, metrics), plus where it sits in the stream.
 *
 * Movies stream: a source emits chunks of frames, T x H x W (or
 * T x C x H x W), each with its frame offset in the whole movie. Tables stream
 * as batches with the same schema.
 *
 * Conventions: coordinates in pixels, the centre of the top-left pixel is
 * (0, 0), x is the column and y the row; frames count from 0.
 *
 * Ownership and release timing (what the host guarantees):
 *  - A packet passed to emit hands its tensor (the DLManagedTensor and its
 *    deleter) and its schema and array (their release callbacks) to the
 *    host, whether emit succeeds or not. The spotflow_packet struct itself
 *    stays the caller's; emit clears the moved fields in it.
 *  - The host calls the deleter (and each release) exactly once: when the
 *    last consumer's process call for that packet has returned; before
 *    emit returns, on the emitting thread, when no edge consumes the port
 *    or emit refuses the packet (a bad port, a stopping run); or when a
 *    failing run drops the packets still queued. The call may come on any of the
 *    host's threads, concurrently with calls into the producing instance,
 *    so a deleter must be thread-safe with respect to the instance and must
 *    not take a lock the plugin holds while it calls emit.
 *  - Every deleter and release of a run has been called before the host
 *    calls any instance's destroy, and the library stays loaded for the
 *    life of the process: a deleter may use state its instance owns, and
 *    its code never disappears under it.
 *  - A packet given to process is borrowed: the host does not call its
 *    deleter or release before process returns, and the consumer never
 *    calls them. What the consumer keeps, it copies.
 */
#ifndef SPOTFLOW_PACKET_H
#define SPOTFLOW_PACKET_H

#include <stdint.h>
#include <dlpack/dlpack.h> /* Debian's libdlpack-dev, DLPack 0.6 (as LibTorch 1.13) */

#include "spotflow/arrow_c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a port carries; also the packet's kind. */
typedef int32_t spotflow_data_kind;
enum {
    SPOTFLOW_DATA_TENSOR = 1, /* packet.tensor is set */
    SPOTFLOW_DATA_TABLE = 2   /* packet.schema/array hold a struct ("+s") batch */
};

/* Where a packet sits in its stream. Sources fill it; nodes that transform a
 * chunk copy it to what they emit, so frame offsets and metadata travel on. */
typedef struct spotflow_stream_info {
    int64_t frame_offset;    /* index of this chunk's first frame in the movie */
    int64_t frame_count;     /* frames this packet covers (tensor: shape[0]) */
    int64_t total_frames;    /* frames in the whole stream; -1 if unknown */
    double pixel_size_nm;    /* lateral pixel size; 0 if unknown */
    double frame_interval_s; /* time between frames; 0 if unknown */
    int32_t channel;         /* channel index, from 0 */
    int32_t reserved0;       /* zero */
} spotflow_stream_info;

typedef struct spotflow_packet {
    spotflow_data_kind kind;
    int32_t reserved0; /* zero */
    spotflow_stream_info info;

    /* kind == SPOTFLOW_DATA_TENSOR: a CPU tensor. Strides may be NULL
     * (compact row-major). Its deleter may be NULL (nothing to free);
     * otherwise the host calls it once, as above. */
    DLManagedTensor* tensor;

    /* kind == SPOTFLOW_DATA_TABLE: a struct-typed batch, one child per
     * column. Both structs follow the Arrow C Data Interface rules. */
    struct ArrowSchema schema;
    struct ArrowArray array;
} spotflow_packet;

#ifdef __cplusplus
}
#endif

#endif /* SPOTFLOW_PACKET_H */
