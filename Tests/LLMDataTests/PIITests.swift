// PII: Luhn and Chinese ID checksums with valid/invalid examples, IPv4/IPv6 validation, and scrubbing of
// e-mails, phones (international, Chinese mobile/landline, NANP), IPs, cards and IDs with counts, in
// English and Chinese text; things that only look like PII (dates, versions, times, pi) stay. US SSNs,
// IBANs (mod-97), international e-mail addresses (RFC 6531 local parts, IDN domains), and dotted quads
// after "version"/"ver"/"v" (kept).
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
    let (t, c) = PIIScrubber().scrub("我的手机是13812345678，座机010-12345678，身份证号11010519491231002X，邮箱：张三@x.cn也算，wang@163.com算。+86 139 1234 5678。")
    #expect(t == "我的手机是<PHONE>，座机<PHONE>，身份证号<CN_ID>，邮箱：<EMAIL>也算，<EMAIL>算。<PHONE>。")
    #expect(c == [.phone: 3, .cnID: 1, .email: 2])
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

@Test func ssnAndIBAN() {
    #expect(PIIChecks.ssn("123-45-6789") && PIIChecks.ssn("078 05 1120"))
    #expect(!PIIChecks.ssn("000-12-3456") && !PIIChecks.ssn("666-12-3456") && !PIIChecks.ssn("912-12-3456"))
    #expect(!PIIChecks.ssn("123-00-4567") && !PIIChecks.ssn("123-45-0000") && !PIIChecks.ssn("12-345-6789x"))
    // IBANs from the ECBS/SWIFT registry examples; one changed digit fails the mod-97 check
    #expect(PIIChecks.iban("GB82 WEST 1234 5698 7654 32") && PIIChecks.iban("DE89370400440532013000"))
    #expect(PIIChecks.iban("FR14 2004 1010 0505 0001 3M02 606") && PIIChecks.iban("NO9386011117947"))
    #expect(!PIIChecks.iban("GB82 WEST 1234 5698 7654 33") && !PIIChecks.iban("DE89 3704") && !PIIChecks.iban("gb82west12345698765432"))
    let (t, c) = PIIScrubber().scrub(
        "SSN 123-45-6789, not 666-12-3456 or 123-45-67890; pay DE89 3704 0044 0532 0130 00 or FR1420041010050500013M02606. Bad: GB82 WEST 1234 5698 7654 33.")
    #expect(t == "SSN <SSN>, not 666-12-3456 or 123-45-67890; pay <IBAN> or <IBAN>. Bad: GB82 WEST 1234 5698 7654 33.")
    #expect(c == [.ssn: 1, .iban: 2])
    // an IBAN's digits are not also taken for a card or phone; kinds switch each off
    #expect(PIIScrubber(kinds: [.phone, .creditCard]).scrub("DE89370400440532013000").counts.isEmpty)
    #expect(PIIScrubber(kinds: [.email]).scrub("123-45-6789").text == "123-45-6789")
}

@Test func internationalEmail() {
    let (t, c) = PIIScrubber().scrub(
        "josé@bücher.de, δοκιμή@παράδειγμα.δοκιμή; 用户@例子.广告 or Pelé.Ünal+x@exämple.com.tr. 请联系alice@x.com谢谢")
    #expect(t == "<EMAIL>, <EMAIL>; <EMAIL> or <EMAIL>. 请联系<EMAIL>谢谢")
    #expect(c == [.email: 5])
    // not addresses: no dot or a numeric top-level label; punctuation and emoji end an address
    let (t2, c2) = PIIScrubber().scrub("ü@ä, a@b.12, «añb@café.fr»😀")
    #expect(t2 == "ü@ä, a@b.12, «<EMAIL>»😀" && c2 == [.email: 1])
}

@Test func versionNumbersAreNotIPs() {
    let (t, c) = PIIScrubber().scrub("version 1.2.3.4, Ver. 10.0.0.1, v 4.3.2.1, V: 8.8.8.8, v1.2.3.4; host 10.0.0.1, rev 1.2.3.4, server v2 at 192.168.0.1")
    #expect(t == "version 1.2.3.4, Ver. 10.0.0.1, v 4.3.2.1, V: 8.8.8.8, v1.2.3.4; host <IP>, rev <IP>, server v2 at <IP>")
    #expect(c == [.ip: 3])
}
