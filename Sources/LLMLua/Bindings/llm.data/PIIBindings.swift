// PIIBindings: the `llm.data.pii` namespace: scrub(text, opts) -> text, counts; the PII stage
// constructor; and the validators (Luhn, Chinese resident ID, IPv4/IPv6, IBAN, US SSN) for recipes and tests.
// Counts tables use the kind names email, phone, ip, creditCard, cnID, ssn, iban.
import CLua
import CLuaShim
import LLMData

enum PIILib: LuaLibrary {
    static let namespace = "llm.data.pii"

    static let functions: [LuaBinding] = [
        LuaBinding(
            "scrub", "pii.scrub(text, [{kinds={'email','phone','ip','creditCard','cnID','ssn','iban'}}]) -> string, counts",
            "Replaces e-mails (also international: Unicode local parts and domains), phones, IPs (not a dotted quad after 'version'/'ver'/'v'), Luhn-valid card numbers, Chinese IDs, US SSNs and mod-97-valid IBANs by <EMAIL> <PHONE> <IP> <CREDIT_CARD> <CN_ID> <SSN> <IBAN>."
        ) { a in
            let s = try CleaningLib.text(a, 1)
            let (t, c) = try scrubber(a, 2).0.scrub(s)
            DataLib.pushString(a.L, t)
            pushCounts(a.L, c)
            return 2
        },
        LuaBinding(
            "Scrubber", "pii.Scrubber{[kinds={...}], [name='pii']} -> Stage",
            "A PII scrubbing stage; per-document counts go to meta.pii ('email=1,phone=2')."
        ) { a in
            let (s, name) = try scrubber(a, 1)
            PipelineBindings.pushStage(a.L, PIIStage(s, name: name))
            return 1
        },
        LuaBinding("luhn", "pii.luhn(number: string) -> boolean", "Luhn checksum of the digits (spaces and dashes ignored).") { a in
            a.push(PIIChecks.luhn(try a.string(1))); return 1
        },
        LuaBinding(
            "chineseID", "pii.chineseID(s: string) -> boolean",
            "True for a valid 18-character Chinese resident ID (GB 11643 check character, real birth date)."
        ) { a in
            a.push(PIIChecks.chineseResidentID(try a.string(1))); return 1
        },
        LuaBinding("isIPv4", "pii.isIPv4(s: string) -> boolean", "True for a dotted-quad IPv4 address.") { a in
            a.push(PIIChecks.isIPv4(try a.string(1))); return 1
        },
        LuaBinding("isIPv6", "pii.isIPv6(s: string) -> boolean", "True for an RFC 4291 IPv6 address.") { a in
            a.push(PIIChecks.isIPv6(try a.string(1))); return 1
        },
        LuaBinding("iban", "pii.iban(s: string) -> boolean", "True for an IBAN (spaces ignored) whose mod-97 check is 1.") { a in
            a.push(PIIChecks.iban(try a.string(1))); return 1
        },
        LuaBinding("ssn", "pii.ssn(s: string) -> boolean", "True for a US SSN AAA-GG-SSSS the SSA could issue (no 000/666/9xx area, 00 group, 0000 serial).") { a in
            a.push(PIIChecks.ssn(try a.string(1))); return 1
        }
    ]

    static func scrubber(_ a: LuaArgs, _ i: Int32) throws -> (PIIScrubber, String) {
        let o = try a.options(i, allowed: ["kinds", "name"])
        var kinds = Set(PIIKind.allCases)
        if let list = try CleaningLib.stringListField(a, i, "kinds") {
            kinds = []
            for k in list {
                guard let kind = PIIKind(rawValue: k) else {
                    throw LuaError.runtime("Invalid 'kinds': unknown kind '\(k)'; expected one of: " + PIIKind.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "))
                }
                kinds.insert(kind)
            }
        }
        return (PIIScrubber(kinds: kinds), try o.string("name") ?? "pii")
    }

    static func pushCounts(_ L: OpaquePointer, _ c: [PIIKind: Int]) {
        lua_createtable(L, 0, Int32(c.count))
        for k in PIIKind.allCases { if let v = c[k] { lua_pushinteger(L, lua_Integer(v)); lua_setfield(L, -2, k.rawValue) } }
    }
}
