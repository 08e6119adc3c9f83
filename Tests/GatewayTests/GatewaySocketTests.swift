import Testing

/// Every test that uses real sockets and real time, run one at a time so that timings and the
/// two cores are not shared between them.
@Suite("Gateway on real sockets", .serialized, .tags(.sockets))
struct GatewaySocketTests {}
