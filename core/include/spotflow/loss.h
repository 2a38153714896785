/* spotflow/loss.h: loss plugins (DECODE's loss, BCE, focal+Dice, Kendall
 * weighting). No recipe node wires a loss: a trainer names one in its params
 * and gets an instance through spotflow_host::create_loss.
 *
 * A loss sees only DLPack tensors. It returns the scalar loss and writes the
 * gradient of that loss with respect to each prediction. A loss with
 * learnable parameters (Kendall's log-variances) exposes them and their
 * gradients as tensors the trainer's optimiser updates in place.
 */
#ifndef SPOTFLOW_LOSS_H
#define SPOTFLOW_LOSS_H

#include <stdint.h>
#include <dlpack/dlpack.h>

#include "spotflow/host.h"
#include "spotflow/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The tensors of one evaluation. All CPU, float32 unless a plugin's README
 * says otherwise; all owned by the caller and borrowed for the duration of
 * the call (the loss keeps no pointer into them and calls no deleter). */
typedef struct spotflow_loss_io {
    const DLTensor* const* predictions; /* network outputs, n_predictions of them */
    const DLTensor* const* targets;     /* ground truth, layout per plugin */
    int32_t n_predictions;
    int32_t n_targets;
    /* mask: optional weights, 0 = ignore this element, 1 = use it; NULL =
     * use all. Not a "mask" port's labels: a trainer turns a label mask's
     * -1 (ignore, plugin.h) into 0 here. */
    const DLTensor* mask;
    /* gradients: n_predictions tensors the caller allocated with the shapes
     * of the predictions (float32, compact); the loss overwrites them with
     * dloss/dprediction. NULL to skip the gradient. */
    DLTensor* const* gradients;
} spotflow_loss_io;

typedef struct spotflow_loss_vtable {
    /* create: as spotflow_node_vtable::create; host is the loss's own table,
     * valid until destroy returns. Called by the host inside the trainer's
     * create_loss; the instance returned belongs to the trainer.
     * [the thread of the create_loss call] */
    void* (*create)(const spotflow_host* host, const char* params_json);

    /* compute: the scalar loss into *loss (mean over the batch, as each
     * plugin documents) and, if io->gradients is set, the gradients; also
     * accumulates (+=) the gradients of the learnable parameters. io and
     * loss are the caller's, borrowed for the call.
     * [any thread, never concurrently for one instance] */
    spotflow_status (*compute)(void* self, const spotflow_loss_io* io, double* loss);

    /* parameter_count: how many learnable parameter tensors; 0 for most. No
     * ownership crosses.
     * [any thread, never concurrently for one instance] */
    int32_t (*parameter_count)(void* self);

    /* parameter: the i-th learnable parameter and its gradient accumulator.
     * Both tensors are owned by the loss and stay valid until destroy; the
     * trainer updates *value in place and zeroes *gradient between steps.
     * [any thread, never concurrently for one instance] */
    spotflow_status (*parameter)(void* self, int32_t i, DLTensor** value, DLTensor** gradient);

    /* destroy: frees the instance; called by its trainer, once, before the
     * trainer's own destroy returns. [the trainer's destroy thread] */
    void (*destroy)(void* self);

    /* Appended in ABI 1.1: read them only when the loss's library declares
     * minor >= 1 (spotflow_loss_instance::abi says which); a 1.0 loss has no
     * such fields. Either may be NULL: no components.
     *
     * component_count: how many named terms make up the loss (count,
     * localisation, background, ...), for a trainer to log each; 0 if it
     * reports none. [any thread, never concurrently for one instance] */
    int32_t (*component_count)(void* self);

    /* component: term i of the last compute(): its name (owned by the loss,
     * valid until destroy) into *name and its value, in the units and
     * reduction of the loss, into *value. The terms add up to the loss,
     * unless the plugin's README names some as diagnostics (loss.kendall's
     * raw sub-loss terms). Before any compute the values are 0. [any thread, never concurrently
     * for one instance] */
    spotflow_status (*component)(void* self, int32_t i, const char** name, double* value);
} spotflow_loss_vtable;

/* A live loss, as create_loss hands it to a trainer: the trainer owns self
 * (and destroys it); loss is a host-owned vtable (see create_loss). */
typedef struct spotflow_loss_instance {
    const spotflow_loss_vtable* loss;
    void* self;
    /* Appended in ABI 1.1: the ABI the loss's library was built for, so a
     * trainer knows which vtable fields exist. A 1.1 host sets it; a 1.0
     * host leaves it as the trainer initialised it, so trainers zero the
     * struct first ({0, 0}: read only the 1.0 fields). */
    spotflow_abi_version abi;
} spotflow_loss_instance;

#ifdef __cplusplus
}
#endif

#endif /* SPOTFLOW_LOSS_H */
