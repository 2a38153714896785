/* Plugins on the 1.1 headers, for abi_compat_test. Built twice:
 *
 * without ABI11_LOSS_LIBRARY:
 *   abi11.trainer  a source that does a "training" once in pull: it gets the
 *                  loss named by `loss` through create_loss (in create),
 *                  evaluates it on known tensors, writes and publishes
 *                  `ckpt.txt` twice (the second replaces the first), writes
 *                  `final.txt` unpublished, and fails if `fail` is 1.
 *                  ckpt.txt holds what it saw; it logs its plugin_dir.
 * with ABI11_LOSS_LIBRARY (a library in another folder):
 *   abi11.dir_loss a loss that logs its own plugin_dir from create.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spotflow/plugin.h"

#ifndef ABI11_LOSS_LIBRARY
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
#endif

static void log_dir(const spotflow_host* host, const char* who) {
    char line[4200];
    if (host->abi.minor < 1) return; /* plugin_dir is 1.1 */
    snprintf(line, sizeof line, "%s plugin_dir %s", who, host->plugin_dir(host));
    host->log(host, SPOTFLOW_LOG_INFO, line);
}

#ifndef ABI11_LOSS_LIBRARY

typedef struct {
    const spotflow_host* host;
    spotflow_loss_instance loss;
    int fail;
    int done;
} trainer;

static void* trainer_create(const spotflow_host* host, const char* params) {
    char loss_id[128];
    trainer* t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->host = host;
    t->fail = (int)param_long(params, "fail", 0);
    param_string(params, "loss", loss_id, sizeof loss_id);
    if (host->abi.minor < 1) {
        host->set_error(host, SPOTFLOW_ERR_UNSUPPORTED, "abi11.trainer needs a 1.1 host");
        free(t);
        return NULL;
    }
    if (host->create_loss(host, loss_id, "{}", &t->loss) != SPOTFLOW_OK) {
        free(t);
        return NULL;
    }
    log_dir(host, "trainer");
    return t;
}

/* Writes `text` to output `name`; publishes it if `publish`. */
static spotflow_status write_output(const spotflow_host* host, const char* name, const char* text, int publish) {
    char path[4096];
    FILE* f;
    spotflow_status s = host->output_path(host, name, path, sizeof path);
    if (s != SPOTFLOW_OK) return s;
    f = fopen(path, "w");
    if (!f) return SPOTFLOW_ERR_IO;
    fputs(text, f);
    fclose(f);
    return publish ? host->publish_output(host, name) : SPOTFLOW_OK;
}

static DLTensor vector3(float* data, int64_t* shape) {
    DLTensor t;
    memset(&t, 0, sizeof t);
    shape[0] = 3;
    t.data = data;
    t.device.device_type = kDLCPU;
    t.ndim = 1;
    t.dtype.code = kDLFloat;
    t.dtype.bits = 32;
    t.dtype.lanes = 1;
    t.shape = shape;
    return t;
}

static spotflow_status trainer_pull(void* self, const spotflow_emitter* out) {
    trainer* t = self;
    const spotflow_host* h = t->host;
    float pred[3] = {1, 2, 3}, target[3] = {0, 2, 5}, grad[3] = {0, 0, 0};
    int64_t ps[1], ts[1], gs[1];
    DLTensor p = vector3(pred, ps), g = vector3(target, ts), d = vector3(grad, gs);
    const DLTensor* preds[1];
    const DLTensor* targets[1];
    DLTensor* grads[1];
    spotflow_loss_io io;
    double loss = -1;
    char text[512];
    spotflow_status s;
    int tail_null = 1;
    size_t k;
    const unsigned char* vt = (const unsigned char*)t->loss.loss;
    /* What a 1.0 loss's table ends with: everything after destroy must be
     * NULL in the host's widened copy. */
    const size_t end_1_0 = offsetof(spotflow_loss_vtable, destroy) + sizeof(void (*)(void*));
    spotflow_status unclaimed, twice;
    (void)out;
    if (t->done) return SPOTFLOW_DONE;
    t->done = 1;
    for (k = end_1_0; k < sizeof(spotflow_loss_vtable); ++k)
        if (vt[k]) tail_null = 0;

    preds[0] = &p;
    targets[0] = &g;
    grads[0] = &d;
    memset(&io, 0, sizeof io);
    io.predictions = preds;
    io.targets = targets;
    io.n_predictions = 1;
    io.n_targets = 1;
    io.gradients = grads;
    s = t->loss.loss->compute(t->loss.self, &io, &loss);
    if (s != SPOTFLOW_OK) return s;

    if ((s = write_output(h, "ckpt.txt", "v1\n", 1)) != SPOTFLOW_OK) return s;
    twice = h->publish_output(h, "ckpt.txt");        /* already published: refused */
    unclaimed = h->publish_output(h, "nobody.txt");  /* never claimed: refused */
    snprintf(text, sizeof text, "v2 loss %.6f grad %.6f %.6f %.6f tail_null %d publish_twice %d publish_unclaimed %d\n",
             loss, grad[0], grad[1], grad[2], tail_null, (int)twice, (int)unclaimed);
    if ((s = write_output(h, "ckpt.txt", text, 1)) != SPOTFLOW_OK) return s; /* replaces v1 */
    if ((s = write_output(h, "final.txt", "final\n", 0)) != SPOTFLOW_OK) return s;
    if (t->fail) {
        h->set_error(h, SPOTFLOW_ERR_INVALID_ARGUMENT, "asked to fail after publishing");
        return SPOTFLOW_ERR_INVALID_ARGUMENT;
    }
    return SPOTFLOW_DONE;
}

static spotflow_status trainer_finish(void* self, const spotflow_emitter* out) {
    (void)self;
    (void)out;
    return SPOTFLOW_OK;
}

static void trainer_destroy(void* self) {
    trainer* t = self;
    t->loss.loss->destroy(t->loss.self);
    free(t);
}

static const spotflow_port_desc no_ports[1] = {{"unused", "table", SPOTFLOW_DATA_TABLE, 0, "unused"}};
static const spotflow_node_vtable trainer_vt = {trainer_create, trainer_pull, NULL, trainer_finish, trainer_destroy};
static const spotflow_plugin_desc desc = {
    "abi11.trainer", "1.1.0", "Publishes checkpoints through the 1.1 host", "trainer", NULL, 0, 0, no_ports,
    "{\"type\":\"object\",\"properties\":{"
    "\"loss\":{\"type\":\"string\",\"default\":\"v10.mse\",\"description\":\"loss plugin\"},"
    "\"fail\":{\"type\":\"integer\",\"default\":0,\"description\":\"fail after publishing\"}}}",
    &trainer_vt, NULL};

#else

static void* dir_loss_create(const spotflow_host* host, const char* params) {
    (void)params;
    log_dir(host, "loss");
    return (void*)host;
}

static spotflow_status dir_loss_compute(void* self, const spotflow_loss_io* io, double* loss) {
    (void)self;
    (void)io;
    *loss = 0;
    return SPOTFLOW_OK;
}

static int32_t dir_loss_parameter_count(void* self) {
    (void)self;
    return 0;
}

static spotflow_status dir_loss_parameter(void* self, int32_t i, DLTensor** value, DLTensor** gradient) {
    (void)self;
    (void)i;
    (void)value;
    (void)gradient;
    return SPOTFLOW_ERR_INVALID_ARGUMENT;
}

static void dir_loss_destroy(void* self) { (void)self; }

/* Designated: functions a later minor appends stay NULL here. */
static const spotflow_loss_vtable loss_vt = {.create = dir_loss_create,
                                             .compute = dir_loss_compute,
                                             .parameter_count = dir_loss_parameter_count,
                                             .parameter = dir_loss_parameter,
                                             .destroy = dir_loss_destroy};
static const spotflow_plugin_desc desc = {
    "abi11.dir_loss", "1.1.0", "Logs its own plugin_dir", "loss", NULL, 0, 0, NULL,
    "{\"type\":\"object\",\"properties\":{}}", NULL, &loss_vt};

#endif

static uint32_t plugin_count(void) { return 1; }
static const spotflow_plugin_desc* plugin_at(uint32_t i) { return i == 0 ? &desc : NULL; }

SPOTFLOW_EXPORT const spotflow_plugin_entry spotflow_entry = {SPOTFLOW_ABI_VERSION_INIT, plugin_count, plugin_at};
