#include "executor.hpp"

#include <cassert>
#include <chrono>
#include <algorithm>
#include <deque>
#include <mutex>

#include <fmt/format.h>
#include <tbb/flow_graph.h>
#include <tbb/global_control.h>

#include "node_host.hpp"
#include "spotflow/table.hpp"
#include "spotflow/tensor.hpp"

namespace spotflow {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct NodeState;

// Returns a source's token when the last packet of one pull is consumed.
struct Token {
    NodeState* source;
    ~Token();
};

// An emitted packet, shared by every consumer of its output port; released
// (tensor deleter, Arrow release) when the last consumer is done with it.
struct PacketBox {
    spotflow_packet packet{};
    std::shared_ptr<Token> token;
    ~PacketBox() {
        release_tensor(packet.tensor);
        release_table(&packet.schema, &packet.array);
    }
};

struct Envelope {
    enum class Kind { Data, EndOfStream, Pull, Start } kind = Kind::Data;
    spotflow_input input{0, 0, nullptr};
    std::shared_ptr<PacketBox> box;
};

struct Target {
    NodeState* node;
    spotflow_input input; // as the target sees it: its port, the edge's index, our "node.port"
};

} // namespace

struct Executor::Impl {
    const ResolvedGraph& graph;
    ExecuteOptions options;
    RunState run;
    tbb::flow::graph g;
    std::vector<std::unique_ptr<NodeProgress>> progress;
    std::vector<std::unique_ptr<NodeState>> nodes;
    std::atomic<bool> accepting{true};

    Impl(const ResolvedGraph& gr, const PluginRegistry& registry, OutputFolder& outputs, ExecuteOptions opt);
    void enqueue(NodeState& n, Envelope e);
    void handle(NodeState& n, Envelope e);
    void finish_node(NodeState& n);
    bool check_status(NodeState& n, spotflow_status s, const char* during);
};

namespace {

struct NodeState {
    Executor::Impl* impl = nullptr;
    const ResolvedNode* spec = nullptr;
    const spotflow_node_vtable* vt = nullptr;
    std::unique_ptr<NodeHost> host;
    void* self = nullptr;
    std::unique_ptr<tbb::flow::function_node<tbb::flow::continue_msg>> fn;

    std::mutex mu;
    std::deque<Envelope> mailbox;
    std::vector<std::vector<Target>> targets; // per output port
    size_t open_edges = 0;                    // incoming edges not yet ended

    // Sources.
    size_t tokens = 0, tokens_total = 0, max_in_flight = 0;
    bool parked = false, exhausted = false;

    // Report. busy is written by this node's calls only; readers downstream
    // read it after this node's end of stream reached them through a
    // mailbox lock, which orders the accesses.
    double busy = 0;
    Clock::time_point first{}, last{};
    bool started = false;
    int64_t packets_in = 0, packets_out = 0;
};

Token::~Token() {
    NodeState& s = *source;
    bool resume = false;
    {
        std::lock_guard<std::mutex> lock(s.mu);
        ++s.tokens;
        assert(s.tokens <= s.tokens_total); // a token returned twice would lift the bound
        if (s.parked && !s.exhausted) {
            s.parked = false;
            resume = true;
        }
    }
    if (resume && s.impl->accepting) s.impl->enqueue(s, Envelope{Envelope::Kind::Pull, {}, nullptr});
}

struct EmitContext {
    Executor::Impl* impl;
    NodeState* node;
    std::shared_ptr<Token> token;
};

std::string describe_packet_problem(const spotflow_port_desc& port, const spotflow_packet& p) {
    if (p.kind != port.kind)
        return fmt::format("emitted a {} on port '{}', which carries {}", p.kind == SPOTFLOW_DATA_TENSOR ? "tensor" : "table",
                           port.name, port.kind == SPOTFLOW_DATA_TENSOR ? "tensors" : "tables");
    if (p.kind == SPOTFLOW_DATA_TENSOR) {
        if (!p.tensor) return fmt::format("emitted a tensor packet without a tensor on port '{}'", port.name);
        if (p.tensor->dl_tensor.device.device_type != kDLCPU)
            return fmt::format("emitted a non-CPU tensor on port '{}'", port.name);
        return "";
    }
    if (!p.schema.release || !p.array.release) return fmt::format("emitted a released table on port '{}'", port.name);
    try {
        TableView view(p.schema, p.array);
    } catch (const std::exception& e) {
        return fmt::format("emitted a malformed table on port '{}': {}", port.name, e.what());
    }
    return "";
}

spotflow_status emit(const spotflow_emitter* out, int32_t port, spotflow_packet* packet) {
    auto& ctx = *static_cast<EmitContext*>(out->host_data);
    NodeState& n = *ctx.node;
    auto box = std::make_shared<PacketBox>();
    if (!packet) return SPOTFLOW_ERR_INVALID_ARGUMENT;
    box->packet = *packet; // ownership moves to the host, whatever happens next
    packet->tensor = nullptr;
    packet->schema.release = nullptr;
    packet->array.release = nullptr;
    const auto* d = n.spec->plugin->desc;
    if (port < 0 || static_cast<uint32_t>(port) >= d->n_outputs) {
        n.host->table.set_error(&n.host->table, SPOTFLOW_ERR_INTERNAL,
                                fmt::format("emitted on output port {}, but the plugin declares {}", port, d->n_outputs).c_str());
        return SPOTFLOW_ERR_INTERNAL;
    }
    if (const auto why = describe_packet_problem(d->outputs[port], box->packet); !why.empty()) {
        n.host->table.set_error(&n.host->table, SPOTFLOW_ERR_INTERNAL, why.c_str());
        return SPOTFLOW_ERR_INTERNAL;
    }
    if (ctx.impl->run.stopping()) return SPOTFLOW_ERR_CANCELLED;
    box->token = ctx.token;
    ++n.packets_out;
    if (ctx.impl->options.capture) {
        try { // emit is called from plugin code: nothing may escape through it
            ctx.impl->options.capture(n.spec->id, d->outputs[port].name, !n.targets[port].empty(), box->packet);
        } catch (const std::exception& e) {
            n.host->table.set_error(&n.host->table, SPOTFLOW_ERR_INTERNAL, fmt::format("host capture: {}", e.what()).c_str());
            return SPOTFLOW_ERR_INTERNAL;
        }
    }
    for (const auto& t : n.targets[port]) ctx.impl->enqueue(*t.node, Envelope{Envelope::Kind::Data, t.input, box});
    return SPOTFLOW_OK;
}

} // namespace

Executor::Impl::Impl(const ResolvedGraph& gr, const PluginRegistry& registry, OutputFolder& outputs, ExecuteOptions opt)
    : graph(gr), options(std::move(opt)) {
    run.registry = &registry;
    run.outputs = &outputs;
    run.threads = std::max(1, options.threads);
    run.interrupt = options.interrupt;
    run.log = options.log;
    const size_t tokens = options.tokens_per_source ? options.tokens_per_source : 2 * static_cast<size_t>(run.threads) + 1;
    for (const auto& spec : graph.nodes) {
        auto p = std::make_unique<NodeProgress>();
        p->id = spec.id;
        auto n = std::make_unique<NodeState>();
        n->impl = this;
        n->spec = &spec;
        n->vt = spec.plugin->desc->node;
        n->host = std::make_unique<NodeHost>(spec.id, &run, p.get(), graph.seed, spec.plugin);
        n->host->input_sources.resize(spec.plugin->desc->n_inputs);
        n->targets.resize(spec.plugin->desc->n_outputs);
        n->tokens = n->tokens_total = tokens;
        NodeState* raw = n.get();
        n->fn = std::make_unique<tbb::flow::function_node<tbb::flow::continue_msg>>(
            g, tbb::flow::serial, [this, raw](const tbb::flow::continue_msg&) {
                Envelope e;
                {
                    std::lock_guard<std::mutex> lock(raw->mu);
                    e = std::move(raw->mailbox.front());
                    raw->mailbox.pop_front();
                }
                handle(*raw, std::move(e));
                return tbb::flow::continue_msg();
            });
        progress.push_back(std::move(p));
        nodes.push_back(std::move(n));
    }
    for (const auto& e : graph.edges) {
        NodeState& to = *nodes[e.to.node];
        const auto& from = graph.nodes[e.from.node];
        auto& sources = to.host->input_sources[static_cast<size_t>(e.to.port)];
        sources.push_back(from.id + "." + from.plugin->desc->outputs[e.from.port].name);
        nodes[e.from.node]->targets[e.from.port].push_back(
            {&to, {e.to.port, static_cast<int32_t>(sources.size() - 1), nullptr}});
        ++to.open_edges;
    }
    // Each edge's own branch: the nodes upstream of it and of no other edge
    // of the same input port (for branch_seconds).
    std::vector<std::vector<size_t>> ancestors(nodes.size());
    for (size_t i = 0; i < graph.nodes.size(); ++i) { // topological order: parents first
        std::vector<bool> mark(nodes.size(), false);
        for (const auto& e : graph.edges)
            if (e.to.node == i) {
                mark[e.from.node] = true;
                for (const size_t a : ancestors[e.from.node]) mark[a] = true;
            }
        for (size_t a = 0; a < mark.size(); ++a)
            if (mark[a]) ancestors[i].push_back(a);
    }
    for (size_t i = 0; i < nodes.size(); ++i) {
        std::vector<std::vector<std::vector<size_t>>> branch(graph.nodes[i].plugin->desc->n_inputs);
        for (const auto& e : graph.edges)
            if (e.to.node == i) {
                std::vector<size_t> up = ancestors[e.from.node];
                up.push_back(e.from.node);
                branch[static_cast<size_t>(e.to.port)].push_back(std::move(up));
            }
        for (auto& edges : branch) {
            std::vector<std::vector<size_t>> own(edges.size());
            for (size_t k = 0; k < edges.size(); ++k)
                for (const size_t a : edges[k]) {
                    bool shared = false;
                    for (size_t m = 0; m < edges.size() && !shared; ++m)
                        shared = m != k && std::find(edges[m].begin(), edges[m].end(), a) != edges[m].end();
                    if (!shared) own[k].push_back(a);
                }
            edges = std::move(own);
        }
        nodes[i]->host->branch_seconds = [this, branch](int32_t port, int32_t edge) {
            if (port < 0 || static_cast<size_t>(port) >= branch.size() || edge < 0 ||
                static_cast<size_t>(edge) >= branch[static_cast<size_t>(port)].size())
                return -1.0;
            double s = 0;
            for (const size_t a : branch[static_cast<size_t>(port)][static_cast<size_t>(edge)]) s += nodes[a]->busy;
            return s;
        };
    }
    // The source names are final now: point the targets at them.
    for (auto& n : nodes)
        for (auto& port : n->targets)
            for (auto& t : port)
                t.input.source = t.node->host->input_sources[static_cast<size_t>(t.input.port)]
                                     [static_cast<size_t>(t.input.edge)].c_str();
}

void Executor::Impl::enqueue(NodeState& n, Envelope e) {
    {
        std::lock_guard<std::mutex> lock(n.mu);
        n.mailbox.push_back(std::move(e));
    }
    n.fn->try_put(tbb::flow::continue_msg());
}

bool Executor::Impl::check_status(NodeState& n, spotflow_status s, const char* during) {
    if (s >= 0) return true;
    if (s == SPOTFLOW_ERR_CANCELLED && run.stopping()) return false; // someone else's failure
    run.fail(n.spec->id, fmt::format("node \"{}\" ({}): {}", n.spec->id, n.spec->plugin->desc->id,
                                     n.host->failure_message(s, during)));
    return false;
}

void Executor::Impl::finish_node(NodeState& n) {
    EmitContext ctx{this, &n, nullptr};
    spotflow_emitter out{&ctx, &emit};
    const auto t0 = Clock::now();
    const spotflow_status s = n.vt->finish(n.self, &out);
    n.busy += seconds_since(t0);
    n.last = Clock::now();
    if (!check_status(n, s, "finish")) return;
    n.host->progress->finished = true;
    for (auto& port : n.targets)
        for (const auto& t : port) enqueue(*t.node, Envelope{Envelope::Kind::EndOfStream, t.input, nullptr});
}

void Executor::Impl::handle(NodeState& n, Envelope e) {
    if (run.stopping()) {
        if (run.interrupt && run.interrupt->load()) run.note_interrupt();
        return; // drain: nothing more runs once the run is failing
    }
    if (!n.started) {
        n.started = true;
        n.first = Clock::now();
    }
    try {
        switch (e.kind) {
        case Envelope::Kind::Pull: {
            {
                std::lock_guard<std::mutex> lock(n.mu);
                if (n.tokens == 0) {
                    n.parked = true;
                    return;
                }
                --n.tokens;
                n.max_in_flight = std::max(n.max_in_flight, n.tokens_total - n.tokens);
            }
            // Built in place: a temporary Token would hand its token back on
            // destruction and let the source run ahead of its consumers.
            EmitContext ctx{this, &n, std::shared_ptr<Token>(new Token{&n})};
            spotflow_emitter out{&ctx, &emit};
            const auto t0 = Clock::now();
            const spotflow_status s = n.vt->pull(n.self, &out);
            n.busy += seconds_since(t0);
            n.last = Clock::now();
            if (s == SPOTFLOW_OK) {
                ctx.token.reset();
                enqueue(n, Envelope{Envelope::Kind::Pull, {}, nullptr});
            } else if (s == SPOTFLOW_DONE) {
                {
                    std::lock_guard<std::mutex> lock(n.mu);
                    n.exhausted = true;
                }
                ctx.token.reset();
                finish_node(n);
            } else {
                check_status(n, s, "pull");
            }
            return;
        }
        case Envelope::Kind::Data: {
            EmitContext ctx{this, &n, nullptr};
            spotflow_emitter out{&ctx, &emit};
            ++n.packets_in;
            const auto t0 = Clock::now();
            const spotflow_status s = n.vt->process(n.self, &e.input, &e.box->packet, &out);
            n.busy += seconds_since(t0);
            n.last = Clock::now();
            check_status(n, s, "process");
            return;
        }
        case Envelope::Kind::EndOfStream:
            if (--n.open_edges == 0) finish_node(n);
            return;
        case Envelope::Kind::Start:
            finish_node(n);
            return;
        }
    } catch (const std::exception& ex) {
        run.fail(n.spec->id, fmt::format("node \"{}\" ({}): host error: {}", n.spec->id, n.spec->plugin->desc->id, ex.what()));
    }
}

Executor::Executor(const ResolvedGraph& graph, const PluginRegistry& registry, OutputFolder& outputs, ExecuteOptions options)
    : impl_(std::make_unique<Impl>(graph, registry, outputs, std::move(options))) {}

Executor::~Executor() = default;

const std::vector<std::unique_ptr<NodeProgress>>& Executor::progress() const { return impl_->progress; }

ExecuteResult Executor::run() {
    Impl& im = *impl_;
    tbb::global_control threads(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(im.run.threads));
    const auto t0 = Clock::now();
    ExecuteResult result;

    // Create every instance first, on this thread, so bad params or files
    // stop the run before any data flows.
    size_t created = 0;
    for (; created < im.nodes.size(); ++created) {
        NodeState& n = *im.nodes[created];
        const std::string params = n.spec->params.dump();
        n.self = n.vt->create(&n.host->table, params.c_str());
        if (!n.self) {
            im.run.fail(n.spec->id, fmt::format("node \"{}\" ({}): {}", n.spec->id, n.spec->plugin->desc->id,
                                                n.host->failure_message(SPOTFLOW_ERR_INVALID_ARGUMENT, "create")));
            result.failed_at_create = true;
            break;
        }
    }

    if (created == im.nodes.size()) {
        // Decide every start before the first enqueue: once a source runs,
        // open_edges of the nodes downstream start changing.
        std::vector<std::pair<NodeState*, Envelope::Kind>> starts;
        for (auto& n : im.nodes) {
            if (n->spec->plugin->is_source()) starts.emplace_back(n.get(), Envelope::Kind::Pull);
            else if (n->open_edges == 0) starts.emplace_back(n.get(), Envelope::Kind::Start);
        }
        for (const auto& [node, kind] : starts) im.enqueue(*node, Envelope{kind, {}, nullptr});
        im.g.wait_for_all();
        if (im.options.interrupt && im.options.interrupt->load()) im.run.note_interrupt();
    }

    // Stop tokens from re-arming sources, drop what is still queued, then
    // destroy the instances in reverse order on this thread.
    im.accepting = false;
    for (auto& n : im.nodes) {
        std::deque<Envelope> drop;
        {
            std::lock_guard<std::mutex> lock(n->mu);
            drop.swap(n->mailbox);
        }
    }
    for (size_t i = created; i-- > 0;) im.nodes[i]->vt->destroy(im.nodes[i]->self);

    for (auto& n : im.nodes) {
        result.nodes.push_back({n->spec->id, n->spec->plugin->desc->id, n->busy,
                                n->started ? std::chrono::duration<double>(n->last - n->first).count() : 0.0,
                                n->packets_in, n->packets_out, n->max_in_flight});
        {
            std::lock_guard<std::mutex> lock(n->host->mu);
            result.nodes.back().warnings = n->host->warnings;
            result.nodes.back().records = n->host->records;
        }
        for (const PluginInfo* loss : n->host->losses()) result.losses.push_back({n->spec->id, loss});
    }
    result.wall_seconds = seconds_since(t0);
    if (!im.run.error.empty()) {
        result.status = im.run.interrupted ? ExecuteResult::Status::Interrupted : ExecuteResult::Status::Failed;
        result.error = im.run.error;
        result.failed_node = im.run.failed_node;
    }
    return result;
}

} // namespace spotflow
