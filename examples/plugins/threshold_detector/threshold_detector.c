/* threshold_detector.c: a complete spotflow plugin in plain C99, written as
 * the SDK's worked example. It finds bright spots in a movie: a pixel is a
 * spot when it is a 3x3 local maximum and exceeds its frame's
 * background by `threshold` robust standard deviations.
 *
 * Everything a plugin needs is here, top to bottom:
 *   1. reading params_json                       (create)
 *   2. reading a DLPack movie chunk              (process)
 *   3. building an Arrow table by hand           (make_batch)
 *   4. the descriptor and the one exported symbol (end of file)
 *
 * It includes only the SDK's C headers and links only libc and libm: a
 * plugin links nothing of spotflow, at build time or at run time.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spotflow/plugin.h"

/* One node instance. The host never calls into one instance concurrently,
 * so it needs no lock; instances running in parallel have their own. */
typedef struct detector {
    const spotflow_host* host; /* valid until destroy returns */
    double threshold;          /* in robust standard deviations */
    int64_t border;            /* in pixels */
} detector;

/* Reports a failure as the host wants it, one line naming the cause, and
 * returns the status for the caller to return in turn. */
static spotflow_status fail(const spotflow_host* host, spotflow_status status, const char* format, ...)
{
    char message[256];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    host->set_error(host, status, message);
    return status;
}

/* ---- 1. Params ---------------------------------------------------------
 *
 * The host has validated params_json against params_schema (below) and
 * filled in every default before create is called, so it is one flat object
 * holding exactly "threshold" and "border", both numbers. That guarantee
 * lets a few lines stand in for a JSON parser: every quoted string is a key.
 * A plugin with nested or string params would embed a real parser. */
static int read_number(const char* json, const char* key, double* value)
{
    const size_t len = strlen(key);
    const char* p = json;
    while ((p = strchr(p, '"')) != NULL) {
        const char* name = p + 1;
        const char* close = strchr(name, '"');
        if (!close) return 0;
        p = close + 1;
        if ((size_t)(close - name) == len && memcmp(name, key, len) == 0) {
            char* end;
            while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
            if (*p != ':') return 0;
            /* strtod's decimal point is JSON's '.' in the "C" locale, the
             * one a process starts in; a plugin never calls setlocale. */
            *value = strtod(p + 1, &end);
            return end != p + 1;
        }
    }
    return 0;
}

static void* td_create(const spotflow_host* host, const char* params_json)
{
    double threshold, border;
    detector* d;
    if (!read_number(params_json, "threshold", &threshold) || !read_number(params_json, "border", &border)) {
        fail(host, SPOTFLOW_ERR_INVALID_ARGUMENT, "params need numbers 'threshold' and 'border': %s", params_json);
        return NULL;
    }
    d = malloc(sizeof *d);
    if (!d) {
        fail(host, SPOTFLOW_ERR_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    d->host = host;
    d->threshold = threshold;
    /* The schema allows any integer >= 0, and casting a double beyond
     * int64's range is undefined behaviour: cap it (no frame is that big). */
    d->border = border < 1e9 ? (int64_t)border : (int64_t)1000000000;
    return d;
}

static void td_destroy(void* self) { free(self); }

/* ---- 2. Reading the movie ----------------------------------------------
 *
 * A chunk is a DLPack tensor T x H x W of any pixel type a camera or image
 * file produces. Each frame is converted to double once, so the detection
 * itself is written once. */
typedef enum { PX_U8, PX_U16, PX_U32, PX_I16, PX_I32, PX_F32, PX_F64, PX_UNSUPPORTED } pixel_type;

static pixel_type pixel_type_of(DLDataType t)
{
    if (t.lanes != 1) return PX_UNSUPPORTED;
    if (t.code == kDLUInt) return t.bits == 8 ? PX_U8 : t.bits == 16 ? PX_U16 : t.bits == 32 ? PX_U32 : PX_UNSUPPORTED;
    if (t.code == kDLInt) return t.bits == 16 ? PX_I16 : t.bits == 32 ? PX_I32 : PX_UNSUPPORTED;
    if (t.code == kDLFloat) return t.bits == 32 ? PX_F32 : t.bits == 64 ? PX_F64 : PX_UNSUPPORTED;
    return PX_UNSUPPORTED;
}

/* "int8", "float16", "float32x4": names a rejected type in the error. */
static void dtype_name(DLDataType t, char* buf, size_t size)
{
    const char* code = t.code == kDLInt ? "int" : t.code == kDLUInt ? "uint" : t.code == kDLFloat ? "float"
                     : t.code == kDLBfloat ? "bfloat" : "dtype";
    if (t.lanes == 1) snprintf(buf, size, "%s%u", code, (unsigned)t.bits);
    else snprintf(buf, size, "%s%ux%u", code, (unsigned)t.bits, (unsigned)t.lanes);
}

static void frame_to_double(const void* src, pixel_type type, size_t n, double* dst)
{
    size_t i;
#define CONVERT(T) for (i = 0; i < n; i++) dst[i] = (double)((const T*)src)[i]; break
    switch (type) {
    case PX_U8: CONVERT(uint8_t);
    case PX_U16: CONVERT(uint16_t);
    case PX_U32: CONVERT(uint32_t);
    case PX_I16: CONVERT(int16_t);
    case PX_I32: CONVERT(int32_t);
    case PX_F32: CONVERT(float);
    case PX_F64: CONVERT(double);
    case PX_UNSUPPORTED: break;
    }
#undef CONVERT
}

/* DLPack strides count elements and may be NULL for compact row-major; a
 * producer may also spell compact strides out. */
static int is_compact(const DLTensor* t)
{
    int64_t expect = 1;
    int i;
    if (!t->strides) return 1;
    for (i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->strides[i] != expect) return 0;
        expect *= t->shape[i];
    }
    return 1;
}

/* ---- Background and noise: median and MAD, without a histogram ---------
 *
 * Wirth's selection reorders a[0..n-1] in place so that a[k] is the k-th
 * smallest, nothing after it smaller and nothing before it larger: O(n) on
 * average, and it works for float pixels, where a histogram would not. */
static double select_kth(double* a, ptrdiff_t n, ptrdiff_t k)
{
    ptrdiff_t lo = 0, hi = n - 1;
    while (lo < hi) {
        const double pivot = a[k];
        ptrdiff_t i = lo, j = hi;
        do {
            while (a[i] < pivot) i++;
            while (pivot < a[j]) j--;
            if (i <= j) {
                const double swap = a[i];
                a[i++] = a[j];
                a[j--] = swap;
            }
        } while (i <= j);
        if (j < k) lo = i;
        if (k < i) hi = j;
    }
    return a[k];
}

/* The median of a[0..n-1], n > 0; reorders a. */
static double median(double* a, ptrdiff_t n)
{
    const double upper = select_kth(a, n, n / 2);
    double lower = upper;
    ptrdiff_t i;
    if (n % 2 == 0) { /* the mean of the two middle values; the lower one is the largest before a[n/2] */
        lower = a[0];
        for (i = 1; i < n / 2; i++)
            if (a[i] > lower) lower = a[i];
    }
    return 0.5 * (lower + upper);
}

/* ---- Detection -------------------------------------------------------- */

/* The output table's columns, in order; both types are 8 bytes wide. */
enum { COL_FRAME, COL_X, COL_Y, COL_INTENSITY, COL_BACKGROUND, N_COLS };
static const char* const column_name[N_COLS] = {"frame", "x", "y", "intensity", "background"};
static const char* const column_format[N_COLS] = {"l", "g", "g", "g", "g"}; /* Arrow: int64, float64 */

/* The detections of one chunk, column by column: these arrays become the
 * table's buffers without a copy. Never NULL while owned here, because
 * Arrow readers differ on whether an empty column may have a NULL buffer. */
typedef struct detections {
    void* column[N_COLS]; /* int64_t for frame, double for the rest */
    int64_t count, capacity;
} detections;

static int detections_init(detections* found)
{
    int c, ok = 1;
    found->count = 0;
    found->capacity = 64;
    for (c = 0; c < N_COLS; c++) {
        found->column[c] = malloc((size_t)found->capacity * 8);
        ok = ok && found->column[c];
    }
    return ok;
}

/* Frees the columns that have not moved into a table. */
static void detections_free(detections* found)
{
    int c;
    for (c = 0; c < N_COLS; c++) free(found->column[c]);
}

static int detections_push(detections* found, int64_t frame, double x, double y, double intensity,
                           double background)
{
    const int64_t n = found->count;
    if (n == found->capacity) {
        int c;
        for (c = 0; c < N_COLS; c++) {
            void* grown = realloc(found->column[c], (size_t)n * 2 * 8);
            if (!grown) return 0; /* the columns grown so far stay valid, just larger */
            found->column[c] = grown;
        }
        found->capacity = n * 2;
    }
    ((int64_t*)found->column[COL_FRAME])[n] = frame;
    ((double*)found->column[COL_X])[n] = x;
    ((double*)found->column[COL_Y])[n] = y;
    ((double*)found->column[COL_INTENSITY])[n] = intensity;
    ((double*)found->column[COL_BACKGROUND])[n] = background;
    found->count = n + 1;
    return 1;
}

/* Finds the spots of one h x w frame (img, row-major) and appends them to
 * *found. scratch holds h*w doubles. Returns 0 when out of memory. */
static int detect_frame(const detector* d, const double* img, double* scratch, int64_t h, int64_t w,
                        int64_t frame, detections* found)
{
    const ptrdiff_t n = (ptrdiff_t)(h * w);
    /* A 3x3 neighbourhood needs a pixel on every side: border 0 acts as 1. */
    const int64_t margin = d->border > 1 ? d->border : 1;
    double background, sigma, level;
    int64_t x, y;
    ptrdiff_t i;
    if (h < 3 || w < 3) return 1;

    memcpy(scratch, img, (size_t)n * sizeof *scratch);
    background = median(scratch, n);
    for (i = 0; i < n; i++) scratch[i] = fabs(img[i] - background);
    /* 1.4826 x MAD estimates a Gaussian's standard deviation and ignores the
     * spots. If over half the pixels equal the median, MAD is 0 and every
     * local maximum above the background counts. */
    sigma = 1.4826 * median(scratch, n);
    level = background + d->threshold * sigma;

    for (y = margin; y < h - margin; y++) {
        for (x = margin; x < w - margin; x++) {
            const double* c = img + y * w + x;
            double sum = 0, weight = 0, wx = 0, wy = 0;
            int dx, dy;
            if (!(*c > level)) continue;
            /* A maximum of its 3x3 neighbourhood. Ties are common (integer
             * counts, a spot centred between two pixels): the first pixel of
             * a tie in raster order wins, so a plateau yields one spot,
             * not none and not two. */
            if (!(*c > c[-w - 1] && *c > c[-w] && *c > c[-w + 1] && *c > c[-1] && *c >= c[1] &&
                  *c >= c[w - 1] && *c >= c[w] && *c >= c[w + 1]))
                continue;
            for (dy = -1; dy <= 1; dy++) {
                for (dx = -1; dx <= 1; dx++) {
                    const double v = c[dy * w + dx] - background;
                    /* Pixels below the background would pull the centroid
                     * away from the spot; they still count in the sum. The
                     * centre is above it, so weight > 0. */
                    const double wt = v > 0 ? v : 0;
                    sum += v;
                    weight += wt;
                    wx += dx * wt;
                    wy += dy * wt;
                }
            }
            if (!detections_push(found, frame, (double)x + wx / weight, (double)y + wy / weight, sum, background))
                return 0;
        }
    }
    return 1;
}

/* ---- 3. The output table: an Arrow C Data Interface batch, by hand ----
 *
 * Ownership, as the C Data Interface prescribes:
 *  - The host (the consumer) owns the two base structs in the packet. This
 *    plugin (the producer) owns everything they point to and frees it in
 *    their release callbacks, whichever thread the host calls them from.
 *  - The host calls only the base structs' release. A parent's release
 *    releases each child that is still live, frees its own memory, and
 *    marks itself released by setting release = NULL.
 *  - A consumer may move a child out (copy the struct, set the original's
 *    release to NULL) and keep it after releasing the parent. So a child
 *    owns its memory itself (values and buffer list), and its struct, which
 *    the parent's memory holds, is never touched again once moved.
 */

/* A column's schema points only to static strings: there is nothing to free. */
static void release_column_schema(struct ArrowSchema* s) { s->release = NULL; }

/* A column's array owns its buffer list and its values (private_data: the
 * same pointer as buffers[1], without the const). */
static void release_column(struct ArrowArray* a)
{
    free(a->private_data);
    free(a->buffers);
    a->release = NULL;
}

/* The parents' memory: their children's structs and the lists pointing to them. */
typedef struct batch_schema {
    struct ArrowSchema columns[N_COLS];
    struct ArrowSchema* children[N_COLS];
} batch_schema;

typedef struct batch_array {
    struct ArrowArray columns[N_COLS];
    struct ArrowArray* children[N_COLS];
    const void* buffers[1]; /* a struct array has one buffer, its validity bitmap: NULL */
} batch_array;

static void release_batch_schema(struct ArrowSchema* s)
{
    int64_t c;
    for (c = 0; c < s->n_children; c++)
        if (s->children[c]->release) s->children[c]->release(s->children[c]);
    free(s->private_data);
    s->release = NULL;
}

static void release_batch_array(struct ArrowArray* a)
{
    int64_t c;
    for (c = 0; c < a->n_children; c++)
        if (a->children[c]->release) a->children[c]->release(a->children[c]);
    free(a->private_data);
    a->release = NULL;
}

/* Moves the columns of *found into a struct batch ("+s", one child per
 * column) in *schema and *array. On failure nothing leaks and *found keeps
 * its columns. */
static int make_batch(detections* found, struct ArrowSchema* schema, struct ArrowArray* array)
{
    batch_schema* bs = malloc(sizeof *bs);
    batch_array* ba = malloc(sizeof *ba);
    const void** lists[N_COLS];
    int c, ok = bs && ba;
    for (c = 0; c < N_COLS; c++) {
        lists[c] = malloc(2 * sizeof(const void*));
        ok = ok && lists[c];
    }
    if (!ok) {
        for (c = 0; c < N_COLS; c++) free(lists[c]);
        free(bs);
        free(ba);
        return 0;
    }
    for (c = 0; c < N_COLS; c++) {
        lists[c][0] = NULL; /* no validity bitmap: these columns have no nulls */
        lists[c][1] = found->column[c];
        /* flags 0: not nullable, since no value is ever missing. */
        bs->columns[c] = (struct ArrowSchema){.format = column_format[c], .name = column_name[c],
                                              .release = release_column_schema};
        ba->columns[c] = (struct ArrowArray){.length = found->count, .n_buffers = 2, .buffers = lists[c],
                                             .release = release_column, .private_data = found->column[c]};
        bs->children[c] = &bs->columns[c];
        ba->children[c] = &ba->columns[c];
        found->column[c] = NULL; /* the table owns the values now */
    }
    ba->buffers[0] = NULL;
    *schema = (struct ArrowSchema){.format = "+s", .name = "", .n_children = N_COLS, .children = bs->children,
                                   .release = release_batch_schema, .private_data = bs};
    *array = (struct ArrowArray){.length = found->count, .n_buffers = 1, .buffers = ba->buffers,
                                 .n_children = N_COLS, .children = ba->children,
                                 .release = release_batch_array, .private_data = ba};
    return 1;
}

/* ---- The node's lifecycle --------------------------------------------- */

/* One chunk in, one table batch out. The packet is borrowed for this call. */
static spotflow_status td_process(void* self, const spotflow_input* input, const spotflow_packet* in,
                                  const spotflow_emitter* out)
{
    const detector* d = self;
    const spotflow_host* host = d->host;
    const DLTensor* t = &in->tensor->dl_tensor; /* the port's kind is tensor, so the host sends only tensors */
    const pixel_type type = pixel_type_of(t->dtype);
    spotflow_status status = SPOTFLOW_OK;
    int64_t frames, h, w, f;
    size_t pixels, frame_bytes;
    const char* data;
    double* img;
    detections found;
    spotflow_packet packet;
    (void)input; /* one input port with one edge: nothing to tell apart */
    if (t->device.device_type != kDLCPU) return fail(host, SPOTFLOW_ERR_UNSUPPORTED, "the movie is not on the CPU");
    if (t->ndim != 3)
        return fail(host, SPOTFLOW_ERR_UNSUPPORTED, "expected a T x H x W movie, got %d dimensions", t->ndim);
    if (!is_compact(t)) return fail(host, SPOTFLOW_ERR_UNSUPPORTED, "the movie is not compact row-major");
    if (type == PX_UNSUPPORTED) {
        char name[32];
        dtype_name(t->dtype, name, sizeof name);
        return fail(host, SPOTFLOW_ERR_UNSUPPORTED,
                    "unsupported pixel type %s; expected uint8, uint16, uint32, int16, int32, float32 or float64",
                    name);
    }

    frames = t->shape[0];
    h = t->shape[1];
    w = t->shape[2];
    pixels = (size_t)(h * w);
    frame_bytes = pixels * (t->dtype.bits / 8);
    data = (const char*)t->data + t->byte_offset;
    /* The frame, then as much scratch space; one more so that an empty frame
     * does not call malloc(0), which may return NULL. */
    img = malloc((2 * pixels + 1) * sizeof *img);
    if (!detections_init(&found) || !img) {
        status = fail(host, SPOTFLOW_ERR_OUT_OF_MEMORY, "out of memory for a %lld x %lld frame",
                      (long long)h, (long long)w);
        goto done;
    }
    for (f = 0; f < frames; f++) {
        if (host->is_cancelled(host)) { /* the run is stopping: no need to finish the chunk */
            status = SPOTFLOW_ERR_CANCELLED;
            goto done;
        }
        frame_to_double(data + (size_t)f * frame_bytes, type, pixels, img);
        if (!detect_frame(d, img, img + pixels, h, w, in->info.frame_offset + f, &found)) {
            status = fail(host, SPOTFLOW_ERR_OUT_OF_MEMORY, "out of memory for the detections");
            goto done;
        }
    }

    /* The table covers the same frames as the chunk: its stream info travels on. */
    packet = (spotflow_packet){.kind = SPOTFLOW_DATA_TABLE, .info = in->info};
    if (!make_batch(&found, &packet.schema, &packet.array)) {
        status = fail(host, SPOTFLOW_ERR_OUT_OF_MEMORY, "out of memory for the detections table");
        goto done;
    }
    host->progress(host, in->info.frame_offset + frames, in->info.total_frames);
    /* The batch belongs to the host from here on, whether emit succeeds or
     * not; a non-zero status means the run is stopping. */
    status = out->emit(out, 0, &packet);

done:
    detections_free(&found);
    free(img);
    return status;
}

/* Every chunk's table is emitted as the chunk is processed: nothing waits
 * for the end of the stream. */
static spotflow_status td_finish(void* self, const spotflow_emitter* out)
{
    (void)self;
    (void)out;
    return SPOTFLOW_OK;
}

/* ---- 4. What the library exports ------------------------------------- */

static const spotflow_port_desc inputs[] = {
    {"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0,
     "T x H x W frames: uint8, uint16, uint32, int16, int32, float32 or float64"},
};
static const spotflow_port_desc outputs[] = {
    {"detections", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, 0,
     "frame, x, y, intensity, background: one batch per movie chunk"},
};

/* JSON Schema draft 7. The host validates params against it and fills in the
 * defaults, which is what lets read_number stay this small. */
static const char params_schema[] =
    "{\"$schema\": \"http://json-schema.org/draft-07/schema#\","
    " \"type\": \"object\", \"additionalProperties\": false,"
    " \"properties\": {"
    "  \"threshold\": {\"type\": \"number\", \"exclusiveMinimum\": 0, \"default\": 6,"
    "   \"description\": \"A local maximum counts when it exceeds the frame's background (its median)"
    " by this many robust standard deviations (1.4826 x MAD).\"},"
    "  \"border\": {\"type\": \"integer\", \"minimum\": 0, \"default\": 2,"
    "   \"description\": \"Ignore maxima in this many rows and columns along each edge of the frame.\"}}}";

/* pull is NULL: a node with inputs is not a source. */
static const spotflow_node_vtable node_vtable = {td_create, NULL, td_process, td_finish, td_destroy};

static const spotflow_plugin_desc descriptor = {
    .id = "example.threshold",
    .version = "1.0.0",
    .summary = "Spots as 3x3 local maxima above the frame's median + threshold x robust sigma",
    .kind = "detector",
    .inputs = inputs,
    .n_inputs = 1,
    .n_outputs = 1,
    .outputs = outputs,
    .params_schema = params_schema,
    .node = &node_vtable,
    .loss = NULL, /* set only by kind "loss" */
};

static uint32_t plugin_count(void) { return 1; }

static const spotflow_plugin_desc* plugin(uint32_t i) { return i == 0 ? &descriptor : NULL; }

/* The library's only exported symbol (spotflow_add_plugin hides the rest).
 * The host checks abi before calling anything. */
SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {SPOTFLOW_ABI_VERSION_INIT, plugin_count, plugin};
