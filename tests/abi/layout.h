/* tests/abi/layout.h: the frozen layout of the ABI's structs on LP64, as
 * (expression, expected value) pairs. all_headers.c records the values a C
 * compiler computes, abi_layout_test.cpp those of a C++ compiler, and the
 * test checks both against the expected ones. Changing any of them breaks
 * every built plugin: it needs SPOTFLOW_ABI_MAJOR + 1. A minor only appends:
 * a struct the host allocates (spotflow_host) grows at its end, so its 1.0
 * size is where the first 1.1 member sits. */
#ifndef SPOTFLOW_TESTS_ABI_LAYOUT_H
#define SPOTFLOW_TESTS_ABI_LAYOUT_H

#include <stddef.h>

#define SPOTFLOW_ABI_LAYOUT(X)                                  \
    X(sizeof(spotflow_abi_version), 8)                          \
    X(offsetof(spotflow_abi_version, minor), 4)                 \
    X(sizeof(struct ArrowSchema), 72)                           \
    X(offsetof(struct ArrowSchema, children), 40)               \
    X(offsetof(struct ArrowSchema, release), 56)                \
    X(offsetof(struct ArrowSchema, private_data), 64)           \
    X(sizeof(struct ArrowArray), 80)                            \
    X(offsetof(struct ArrowArray, buffers), 40)                 \
    X(offsetof(struct ArrowArray, release), 64)                 \
    X(offsetof(struct ArrowArray, private_data), 72)            \
    X(sizeof(DLDataType), 4)                                    \
    X(sizeof(DLTensor), 48)                                     \
    X(offsetof(DLTensor, dtype), 20)                            \
    X(offsetof(DLTensor, byte_offset), 40)                      \
    X(sizeof(DLManagedTensor), 64)                              \
    X(offsetof(DLManagedTensor, deleter), 56)                   \
    X(sizeof(spotflow_stream_info), 48)                         \
    X(offsetof(spotflow_stream_info, pixel_size_nm), 24)        \
    X(offsetof(spotflow_stream_info, channel), 40)              \
    X(sizeof(spotflow_packet), 216)                             \
    X(offsetof(spotflow_packet, info), 8)                       \
    X(offsetof(spotflow_packet, tensor), 56)                    \
    X(offsetof(spotflow_packet, schema), 64)                    \
    X(offsetof(spotflow_packet, array), 136)                    \
    X(offsetof(spotflow_host, publish_output), 104)             \
    X(offsetof(spotflow_host, plugin_dir), 112)                 \
    X(offsetof(spotflow_host, record), 120)                     \
    X(offsetof(spotflow_host, log), 16)                         \
    X(offsetof(spotflow_host, set_error), 40)                   \
    X(offsetof(spotflow_host, create_loss), 72)                 \
    X(offsetof(spotflow_host, input_source), 88)                \
    X(offsetof(spotflow_host, branch_seconds), 96)              \
    X(sizeof(spotflow_input), 16)                               \
    X(offsetof(spotflow_input, source), 8)                      \
    X(sizeof(spotflow_emitter), 16)                             \
    X(sizeof(spotflow_node_vtable), 40)                         \
    X(offsetof(spotflow_node_vtable, destroy), 32)              \
    X(sizeof(spotflow_loss_io), 40)                             \
    X(offsetof(spotflow_loss_io, n_predictions), 16)            \
    X(offsetof(spotflow_loss_io, mask), 24)                     \
    X(offsetof(spotflow_loss_io, gradients), 32)                \
    X(sizeof(spotflow_loss_vtable), 56)                         \
    X(offsetof(spotflow_loss_vtable, component_count), 40)      \
    X(offsetof(spotflow_loss_vtable, component), 48)            \
    X(sizeof(spotflow_loss_instance), 24)                       \
    X(offsetof(spotflow_loss_instance, abi), 16)                \
    X(sizeof(spotflow_port_desc), 32)                           \
    X(offsetof(spotflow_port_desc, flags), 20)                  \
    X(sizeof(spotflow_plugin_desc), 80)                         \
    X(offsetof(spotflow_plugin_desc, n_inputs), 40)             \
    X(offsetof(spotflow_plugin_desc, outputs), 48)              \
    X(offsetof(spotflow_plugin_desc, node), 64)                 \
    X(offsetof(spotflow_plugin_desc, loss), 72)                 \
    X(sizeof(spotflow_plugin_entry), 24)                        \
    X(offsetof(spotflow_plugin_entry, plugin), 16)

#ifdef __cplusplus
extern "C" {
#endif

/* The values above as all_headers.c, compiled as C, computes them. */
extern const size_t spotflow_abi_layout_c[];

#ifdef __cplusplus
}
#endif

#endif /* SPOTFLOW_TESTS_ABI_LAYOUT_H */
