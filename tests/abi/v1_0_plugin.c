/* A plugin built against the frozen 1.0 headers (tests/abi/v1_0), for
 * abi_compat_test: the current host must load and run it and never read
 * past what 1.0 defines. Its descriptors and vtables sit at the very end of
 * a readable page followed by an unreadable one, so a host that reads one
 * byte beyond a 1.0 struct (a field a later minor appended) crashes the
 * test instead of reading garbage.
 *
 *   v10.source  movie source: `frames` frames of 2 x 2 uint16 pixels holding
 *               the frame index, in chunks of `chunk`
 *   v10.writer  sums every pixel; at finish writes `file`:
 *               "frames F sum S released R host A.B" (R: chunks whose
 *               deleter the host had called by then, this run)
 *   v10.mse     loss: mean squared error of prediction 0 against target 0
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "spotflow/plugin.h"

#if SPOTFLOW_ABI_MAJOR != 1 || SPOTFLOW_ABI_MINOR != 0
#error "v1_0_plugin.c must be built against tests/abi/v1_0, the 1.0 headers"
#endif

static atomic_long g_released; /* chunks whose deleter has run */

/* Params are tiny flat JSON objects the host completed with defaults:
 * a number after "key": is all this plugin needs. */
static long param_long(const char* json, const char* key, long fallback) {
    char pattern[64];
    const char* at;
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    at = strstr(json, pattern);
    return at ? strtol(at + strlen(pattern), NULL, 10) : fallback;
}

static void param_string(const char* json, const char* key, char* out, size_t n) {
    char pattern[64];
    const char* at;
    size_t k = 0;
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    at = strstr(json, pattern);
    out[0] = 0;
    if (!at) return;
    at += strlen(pattern);
    while (at[k] && at[k] != '"' && k + 1 < n) { out[k] = at[k]; ++k; }
    out[k] = 0;
}

/* ---- v10.source */
typedef struct {
    const spotflow_host* host;
    long frames, chunk, next;
} source;

typedef struct {
    DLManagedTensor managed;
    int64_t shape[3];
    uint16_t data[];
} chunk_tensor;

static void chunk_deleter(DLManagedTensor* t) {
    atomic_fetch_add(&g_released, 1);
    free(t);
}

static void* source_create(const spotflow_host* host, const char* params) {
    source* s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->host = host;
    s->frames = param_long(params, "frames", 10);
    s->chunk = param_long(params, "chunk", 3);
    if (s->chunk < 1) {
        host->set_error(host, SPOTFLOW_ERR_INVALID_ARGUMENT, "chunk must be >= 1");
        free(s);
        return NULL;
    }
    return s;
}

static spotflow_status source_pull(void* self, const spotflow_emitter* out) {
    source* s = self;
    long n, i;
    chunk_tensor* c;
    spotflow_packet p;
    if (s->next >= s->frames) return SPOTFLOW_DONE;
    n = s->frames - s->next < s->chunk ? s->frames - s->next : s->chunk;
    c = malloc(sizeof *c + (size_t)(n * 4) * sizeof(uint16_t));
    if (!c) return SPOTFLOW_ERR_OUT_OF_MEMORY;
    memset(&c->managed, 0, sizeof c->managed);
    for (i = 0; i < n * 4; ++i) c->data[i] = (uint16_t)(s->next + i / 4);
    c->shape[0] = n;
    c->shape[1] = 2;
    c->shape[2] = 2;
    c->managed.dl_tensor.data = c->data;
    c->managed.dl_tensor.device.device_type = kDLCPU;
    c->managed.dl_tensor.ndim = 3;
    c->managed.dl_tensor.dtype.code = kDLUInt;
    c->managed.dl_tensor.dtype.bits = 16;
    c->managed.dl_tensor.dtype.lanes = 1;
    c->managed.dl_tensor.shape = c->shape;
    c->managed.deleter = chunk_deleter;
    memset(&p, 0, sizeof p);
    p.kind = SPOTFLOW_DATA_TENSOR;
    p.info.frame_offset = s->next;
    p.info.frame_count = n;
    p.info.total_frames = s->frames;
    p.tensor = &c->managed;
    s->next += n;
    return out->emit(out, 0, &p);
}

static spotflow_status nothing(void* self, const spotflow_emitter* out) {
    (void)self;
    (void)out;
    return SPOTFLOW_OK;
}

static void free_self(void* self) { free(self); }

/* ---- v10.writer */
typedef struct {
    const spotflow_host* host;
    char file[256];
    long frames, sum, released0;
} writer;

static void* writer_create(const spotflow_host* host, const char* params) {
    writer* w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->host = host;
    param_string(params, "file", w->file, sizeof w->file);
    w->released0 = atomic_load(&g_released); /* other runs in this process */
    return w;
}

static spotflow_status writer_process(void* self, const spotflow_input* in, const spotflow_packet* p,
                                      const spotflow_emitter* out) {
    writer* w = self;
    const DLTensor* t = &p->tensor->dl_tensor;
    const uint16_t* d = t->data;
    int64_t i, n = t->shape[0] * t->shape[1] * t->shape[2];
    (void)in;
    (void)out;
    for (i = 0; i < n; ++i) w->sum += d[i];
    w->frames += t->shape[0];
    return SPOTFLOW_OK;
}

static spotflow_status writer_finish(void* self, const spotflow_emitter* out) {
    writer* w = self;
    char path[4096];
    FILE* f;
    spotflow_status s = w->host->output_path(w->host, w->file, path, sizeof path);
    (void)out;
    if (s != SPOTFLOW_OK) return s;
    f = fopen(path, "w");
    if (!f) {
        w->host->set_error(w->host, SPOTFLOW_ERR_IO, "cannot write the output");
        return SPOTFLOW_ERR_IO;
    }
    /* Every chunk was consumed before finish: the host has released them. */
    fprintf(f, "frames %ld sum %ld released %ld host %u.%u\n", w->frames, w->sum, atomic_load(&g_released) - w->released0,
            (unsigned)w->host->abi.major, (unsigned)w->host->abi.minor);
    fclose(f);
    return SPOTFLOW_OK;
}

/* ---- v10.mse */
static void* mse_create(const spotflow_host* host, const char* params) {
    (void)params;
    return (void*)host;
}

static spotflow_status mse_compute(void* self, const spotflow_loss_io* io, double* loss) {
    const DLTensor* p;
    const DLTensor* t;
    const float* pd;
    const float* td;
    int64_t i, n = 1;
    double s = 0;
    (void)self;
    if (io->n_predictions < 1 || io->n_targets < 1) return SPOTFLOW_ERR_INVALID_ARGUMENT;
    p = io->predictions[0];
    t = io->targets[0];
    pd = p->data;
    td = t->data;
    for (i = 0; i < p->ndim; ++i) n *= p->shape[i];
    for (i = 0; i < n; ++i) s += (double)(pd[i] - td[i]) * (pd[i] - td[i]);
    *loss = s / (double)n;
    if (io->gradients) {
        float* g = io->gradients[0]->data;
        for (i = 0; i < n; ++i) g[i] = (float)(2.0 * (pd[i] - td[i]) / (double)n);
    }
    return SPOTFLOW_OK;
}

static int32_t mse_parameter_count(void* self) {
    (void)self;
    return 0;
}

static spotflow_status mse_parameter(void* self, int32_t i, DLTensor** value, DLTensor** gradient) {
    (void)self;
    (void)i;
    (void)value;
    (void)gradient;
    return SPOTFLOW_ERR_INVALID_ARGUMENT;
}

static void mse_destroy(void* self) { (void)self; }

/* ---- descriptors, each ending where an unreadable page starts */
static const spotflow_port_desc movie_out[] = {{"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "frames"}};
static const spotflow_port_desc movie_in[] = {{"movie", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "frames"}};

#define N_PLUGINS 3
static const spotflow_plugin_desc* g_desc[N_PLUGINS];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* A copy of `size` bytes of `obj` whose last byte is the last readable one. */
static void* guarded_copy(const void* obj, size_t size) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char* m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) abort();
    memcpy(m + page - size, obj, size);
    if (mprotect(m + page, page, PROT_NONE) != 0 || mprotect(m, page, PROT_READ) != 0) abort();
    return m + page - size;
}

static void build(void) {
    spotflow_node_vtable vt;
    spotflow_loss_vtable lv;
    spotflow_plugin_desc d;

    memset(&vt, 0, sizeof vt);
    vt.create = source_create;
    vt.pull = source_pull;
    vt.finish = nothing;
    vt.destroy = free_self;
    memset(&d, 0, sizeof d);
    d.id = "v10.source";
    d.version = "1.0.0";
    d.summary = "A 1.0 movie source";
    d.kind = "source";
    d.n_outputs = 1;
    d.outputs = movie_out;
    d.params_schema = "{\"type\":\"object\",\"properties\":{"
                      "\"frames\":{\"type\":\"integer\",\"default\":10,\"description\":\"frames\"},"
                      "\"chunk\":{\"type\":\"integer\",\"default\":3,\"description\":\"frames per chunk\"}}}";
    d.node = guarded_copy(&vt, sizeof vt);
    g_desc[0] = guarded_copy(&d, sizeof d);

    memset(&vt, 0, sizeof vt);
    vt.create = writer_create;
    vt.process = writer_process;
    vt.finish = writer_finish;
    vt.destroy = free_self;
    memset(&d, 0, sizeof d);
    d.id = "v10.writer";
    d.version = "1.0.0";
    d.summary = "A 1.0 writer";
    d.kind = "writer";
    d.n_inputs = 1;
    d.inputs = movie_in;
    d.params_schema = "{\"type\":\"object\",\"properties\":{"
                      "\"file\":{\"type\":\"string\",\"default\":\"v10.txt\",\"description\":\"output\"}}}";
    d.node = guarded_copy(&vt, sizeof vt);
    g_desc[1] = guarded_copy(&d, sizeof d);

    memset(&lv, 0, sizeof lv);
    lv.create = mse_create;
    lv.compute = mse_compute;
    lv.parameter_count = mse_parameter_count;
    lv.parameter = mse_parameter;
    lv.destroy = mse_destroy;
    memset(&d, 0, sizeof d);
    d.id = "v10.mse";
    d.version = "1.0.0";
    d.summary = "A 1.0 loss: mean squared error";
    d.kind = "loss";
    d.params_schema = "{\"type\":\"object\",\"properties\":{}}";
    d.loss = guarded_copy(&lv, sizeof lv);
    g_desc[2] = guarded_copy(&d, sizeof d);
}

static uint32_t plugin_count(void) { return N_PLUGINS; }

static const spotflow_plugin_desc* plugin_at(uint32_t i) {
    pthread_once(&g_once, build);
    return i < N_PLUGINS ? g_desc[i] : NULL;
}

SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {SPOTFLOW_ABI_VERSION_INIT, plugin_count, plugin_at};
