// WordNetTests: the WordNet reader against known synsets of the WordNet 3.0 database (Debian
// `wordnet-base`, installed by scripts/setup.sh): index lookup, synset parsing, morphy (exception lists
// and detachment rules), synonyms, and the error for a missing database.
import Testing
@testable import LLMData

@Suite struct WordNetTests {
    let wn: WordNet
    init() throws { wn = try WordNet.open() }

    @Test func carSynset() throws {
        let s = try #require(wn.synset(offset: 2958343, pos: .noun))
        #expect(s.lemmas == ["car", "auto", "automobile", "machine", "motorcar"])
        #expect(s.type == "n")
        #expect(s.gloss.hasPrefix("a motor vehicle with four wheels"))
        #expect(wn.synsets("car", pos: .noun).map(\.offset) == [2958343, 2959942, 2960501, 2960352, 2934451])
    }

    @Test func synonyms() {
        let car = wn.synonyms(of: "car", pos: .noun)
        #expect(Array(car.prefix(4)) == ["auto", "automobile", "machine", "motorcar"])
        #expect(!car.contains("car"))
        #expect(car.contains("railcar"))
        let happy = wn.synonyms(of: "happy", pos: .adj)
        #expect(happy.contains("felicitous") && happy.contains("glad"))
        #expect(!happy.contains("happy"))
        #expect(wn.synonyms(of: "Car").contains("automobile"))  // any POS, case-insensitive
        #expect(wn.synonyms(of: "cars", pos: .noun).contains("automobile"))  // through morphy
        #expect(!wn.synonyms(of: "cars", pos: .noun).contains("car"))
        #expect(wn.synonyms(of: "car", pos: .noun).contains("elevator car"))  // '_' read as a space
        #expect(wn.synonyms(of: "xqzzyv").isEmpty)
    }

    @Test func morphy() {
        #expect(wn.morphy("geese", pos: .noun) == "goose")
        #expect(wn.morphy("ran", pos: .verb) == "run")
        #expect(wn.morphy("dogs", pos: .noun) == "dog")
        #expect(wn.morphy("churches", pos: .noun) == "church")
        #expect(wn.morphy("running", pos: .verb) == "run")
        #expect(wn.morphy("hiking", pos: .verb) == "hike")
        #expect(wn.morphy("bigger", pos: .adj) == "big")
        #expect(wn.morphy("happiest", pos: .adj) == "happy")
        #expect(wn.morphy("car", pos: .noun) == "car")
        #expect(wn.morphy("xqzzyv", pos: .noun) == nil)
        #expect(wn.morphy("ran") == "run")  // any POS: noun first, then verb
        #expect(wn.morphy("motor vehicle", pos: .noun) == "motor_vehicle")
    }

    @Test func adjectiveMarkersAndSatellites() {
        // "galore(ip)" in data.adj: the marker is stripped
        #expect(wn.synsets("galore", pos: .adj).contains { $0.lemmas.contains("galore") })
        #expect(wn.synsets("glad", pos: .adj).contains { $0.type == "s" })
    }

    @Test func posParsing() {
        #expect(WordNetPOS.parse("n") == .noun && WordNetPOS.parse("VERB") == .verb)
        #expect(WordNetPOS.parse("s") == .adj && WordNetPOS.parse("r") == .adv && WordNetPOS.parse("x") == nil)
    }

    @Test func missingDatabase() {
        #expect(!WordNet.isAvailable(directory: "/nonexistent/wordnet"))
        do {
            _ = try WordNet.open(directory: "/nonexistent/wordnet")
            Issue.record("expected an error")
        } catch let e as WordNetError {
            #expect(e.description.contains("wordnet-base"))
            #expect(e.description.contains("/nonexistent/wordnet/index.noun"))
        } catch { Issue.record("unexpected \(error)") }
    }
}
