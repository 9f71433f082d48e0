// PII: Luhn and Chinese ID checksums with valid/invalid examples, IPv4/IPv6 validation, and scrubbing of
// e-mails, phones (international, Chinese mobile/landline, NANP), IPs, cards and IDs with counts, in
// English and Chinese text; things that only look like PII (dates, versions, times, pi) stay.
import Testing
@testable import LLMData

@Test func luhnAndChineseID() {
    #expect(PIIChecks.luhn("4111 1111 1111 1111") && PIIChecks.luhn("5500-0000-0000-0004") && PIIChecks.luhn("378282246310005"))
    #expect(!PIIChecks.luhn("4111 1111 1111 1112") && !PIIChecks.luhn("12a4") && !PIIChecks.luhn(""))
    #expect(PIIChecks.chineseResidentID("11010519491231002X") && PIIChecks.chineseResidentID("11010519491231002x"))
    #expect(PIIChecks.chineseResidentID("440524198001010013"))
    #expect(!PIIChecks.chineseResidentID("110105194912310021"))  // wrong check character
    #expect(!PIIChecks.chineseResidentID("110105194902300012"))  // Feb 30 with a correct check character
    #expect(!PIIChecks.chineseResidentID("11010519491231002"))  // 17 characters
    #expect(!PIIChecks.chineseResidentID("440524188001010014"))  // year 1880 is out of range
}

@Test func ipValidation() {
    #expect(PIIChecks.isIPv4("192.168.1.1") && PIIChecks.isIPv4("0.0.0.0") && !PIIChecks.isIPv4("256.1.1.1") && !PIIChecks.isIPv4("1.2.3"))
    #expect(PIIChecks.isIPv6("2001:db8::8a2e:370:7334") && PIIChecks.isIPv6("::1") && PIIChecks.isIPv6("::ffff:192.168.1.1"))
    #expect(PIIChecks.isIPv6("2001:0db8:0000:0000:0000:ff00:0042:8329"))
    #expect(!PIIChecks.isIPv6("12:30:45") && !PIIChecks.isIPv6("1::2::3") && !PIIChecks.isIPv6("12345::1") && !PIIChecks.isIPv6("g::1"))
}

@Test func scrubEnglish() {
    let (t, c) = PIIScrubber().scrub(
        "mail a.b+x@mail.example.org, call +1 415 555 2671 or (555) 123-4567; ip 10.0.0.1 "
            + "and 2001:db8::1. card 4111 1111 1111 1111 but not 4111-1111-1111-1112. v1.2.3 on 2024-01-15 at 12:30:45, pi 3.14159.")
    #expect(
        t == "mail <EMAIL>, call <PHONE> or <PHONE>; ip <IP> and <IP>. card <CREDIT_CARD> but not 4111-1111-1111-1112. "
            + "v1.2.3 on 2024-01-15 at 12:30:45, pi 3.14159.")
    #expect(c == [.email: 1, .phone: 2, .ip: 2, .creditCard: 1])
}

@Test func scrubChinese() {
    let (t, c) = PIIScrubber().scrub("我的手机是13812345678，座机010-12345678，身份证号11010519491231002X，邮箱张三@x.cn不算，wang@163.com算。+86 139 1234 5678。")
    #expect(t == "我的手机是<PHONE>，座机<PHONE>，身份证号<CN_ID>，邮箱张三@x.cn不算，<EMAIL>算。<PHONE>。")
    #expect(c == [.phone: 3, .cnID: 1, .email: 1])
    // invalid ID and a 12-digit number stay; emoji around data is fine
    let (t2, c2) = PIIScrubber().scrub("📞13912345678📞 110105194912310021 123456789012")
    #expect(t2 == "📞<PHONE>📞 110105194912310021 123456789012" && c2 == [.phone: 1])
}

@Test func scrubKindsAndStage() throws {
    let only = PIIScrubber(kinds: [.email])
    #expect(only.scrub("a@b.co 13812345678").text == "<EMAIL> 13812345678")
    let stage = PIIStage()
    guard case .keep(let d) = try stage.process(Document(text: "x@y.com y@z.org 13812345678", id: "1")) else { Issue.record("dropped"); return }
    #expect(d.text == "<EMAIL> <EMAIL> <PHONE>" && d.meta["pii"] == "email=2,phone=1")
    _ = try stage.process(Document(text: "nothing here", id: "2"))
    #expect(stage.totals() == [.email: 2, .phone: 1])
}
