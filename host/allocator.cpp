// The allocator of the spotflow executables: jemalloc, keeping the pages it
// frees for reuse.
//
// Why: a network's tensors over a window of frames are tens of MB each
// (link.magik at 1,000 detections per frame: ~50 MB per edge tensor, a few
// dozen per window). glibc's malloc serves blocks above 32 MB with mmap and
// returns them with munmap, so every such tensor costs the kernel zeroing
// fresh pages: measured, over half the CPU time of link.magik at 1,000
// detections per frame was system time. jemalloc with decay disabled reuses
// the freed pages instead; the peak (what a node's window bounds) is
// unchanged, the memory is just not handed back to the system before exit.
//
// Linked only into executables (spotflow, the benches): a plugin or a library
// never chooses the process's allocator, and the Python package runs under
// the interpreter's.

// jemalloc reads its options from this symbol at its first allocation.
extern "C" {
__attribute__((visibility("default"))) const char* malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1";
}
