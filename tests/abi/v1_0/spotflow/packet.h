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
     * (compact row-major). */
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
