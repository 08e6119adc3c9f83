import Foundation
import Testing
@testable import Tunnels

@Suite("Tunnel command lines: what each provider's program is given")
struct TunnelPlanTests {
    @Test("ssh: a reverse forward of the remote port to the gateway, keys only, exits if the forward fails")
    func sshPlan() {
        let plan = TunnelPlan.ssh(SSHEndpoint(host: "bastion.example.com", user: "etl", sshPort: 2222, remotePort: 13306,
                                              identityFile: "/keys/id", knownHostsFile: "/keys/known"),
                                  gatewayHost: "127.0.0.1", gatewayPort: 3306)
        #expect(plan.arguments.first == "-N")
        #expect(plan.arguments.last == "etl@bastion.example.com")
        let pairs = Dictionary(zip(plan.arguments, plan.arguments.dropFirst()).map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        #expect(pairs["-R"] == "13306:127.0.0.1:3306")
        #expect(pairs["-p"] == "2222")
        #expect(pairs["-i"] == "/keys/id")
        #expect(plan.arguments.contains("BatchMode=yes"))
        #expect(plan.arguments.contains("ExitOnForwardFailure=yes"))
        #expect(plan.arguments.contains("StrictHostKeyChecking=yes"))
        #expect(plan.arguments.contains("UserKnownHostsFile=/keys/known"))
        #expect(plan.environment.isEmpty)
        #expect(plan.publicHost == "bastion.example.com" && plan.publicPort == 13306)
    }

    @Test("ssh: a bind address goes in front of the remote port and is the public host")
    func sshBind() {
        let plan = TunnelPlan.ssh(SSHEndpoint(host: "h", remotePort: 3306, bindAddress: "203.0.113.5"), gatewayHost: "127.0.0.1", gatewayPort: 4000)
        #expect(plan.arguments.contains("203.0.113.5:3306:127.0.0.1:4000"))
        #expect(plan.arguments.last == "h")
        #expect(plan.publicHost == "203.0.113.5")
    }

    @Test("ngrok: a TCP tunnel to the gateway; the token only in NGROK_AUTHTOKEN")
    func ngrokPlan() {
        let plan = TunnelPlan.ngrok(token: "secret-token", gatewayHost: "127.0.0.1", gatewayPort: 3306)
        #expect(Array(plan.arguments.prefix(2)) == ["tcp", "127.0.0.1:3306"])
        #expect(plan.environment == ["NGROK_AUTHTOKEN": "secret-token"])
        #expect(!plan.arguments.joined(separator: " ").contains("secret-token"))
        #expect(plan.readyMarker == nil && plan.publicHost == nil)
    }

    @Test("cloudflare: cloudflared tunnel run pointed at the gateway; the token only in TUNNEL_TOKEN")
    func cloudflarePlan() {
        let plan = TunnelPlan.cloudflare(token: "cf-token", hostname: "db.example.com", gatewayHost: "127.0.0.1", gatewayPort: 3306)
        #expect(plan.arguments == ["tunnel", "--no-autoupdate", "--url", "tcp://127.0.0.1:3306", "run"])
        #expect(plan.environment == ["TUNNEL_TOKEN": "cf-token"])
        #expect(plan.publicHost == "db.example.com" && plan.publicPort == nil)
        #expect(TunnelProvider.cloudflare.program == "cloudflared")
    }

    @Test("ngrok's local API: the tcp tunnel's public address; anything else is no address")
    func ngrokAPI() {
        let answer = #"{"tunnels":[{"name":"web","public_url":"https://x.ngrok.app"},{"name":"command_line","public_url":"tcp://4.tcp.eu.ngrok.io:17352","proto":"tcp"}],"uri":"/api/tunnels"}"#
        let address = NgrokTunnels.publicAddress(from: Array(answer.utf8))
        #expect(address?.host == "4.tcp.eu.ngrok.io" && address?.port == 17352)
        #expect(NgrokTunnels.publicAddress(from: Array(#"{"tunnels":[]}"#.utf8)) == nil)
        #expect(NgrokTunnels.publicAddress(from: Array("not json".utf8)) == nil)
        #expect(NgrokTunnels.publicAddress(from: Array(#"{"tunnels":[{"public_url":"tcp://nohost"}]}"#.utf8)) == nil)
    }

    @Test("a recorded tunnel's address, with and without a port")
    func recordAddress() {
        var record = TunnelRecord(provider: .ssh, pid: 1, startTime: 1, program: "/usr/bin/ssh", publicHost: "h", publicPort: 5,
                                  gatewayPort: 3306, started: Date())
        #expect(record.publicAddress == "h:5")
        record.publicPort = nil
        #expect(record.publicAddress == "h")
    }
}
