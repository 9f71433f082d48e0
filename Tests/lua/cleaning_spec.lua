-- cleaning_spec.lua: llm.data.clean (pure cleaning functions, clean.Cleaner stage), llm.data.pii
-- (scrub, Scrubber stage, validators) and llm.data.filters (check functions, stage constructors, words,
-- scripts) from Lua, with English, Chinese and emoji text, and the option/argument error messages.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/cleaning_spec.lua

local clean, pii, filters = llm.data.clean, llm.data.pii, llm.data.filters

local fails = dofile((debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. 'helpers.lua').fails

local english = 'The quick brown fox jumps over the lazy dog and then it runs to the forest with a friend. '
  .. 'Many people have said that the weather of this town is nice, and that the food is good to eat with friends. '
  .. 'We went there in summer with our family and we stayed for two weeks because everything was lovely and quiet.'
local chinese = '今天天气很好，我们一起去公园散步。公园里有很多人在跑步和打球，孩子们在草地上玩耍。我觉得这是一个非常美好的周末，也希望下周还能再来这里。'

describe('llm.data.clean functions', function()
  it('normalizes, removes controls and emoji', function()
    assert.are.equal('full1', clean.normalize('ｆｕｌｌ①', 'NFKC'))
    assert.are.equal('中文,全角!', clean.normalize('中文，全角！', 'nfkc'))
    assert.are.equal('abc\nd', clean.removeControl('a\u{200B}b\u{FEFF}c\r\nd'))
    assert.are.equal('hi  #1  好', clean.removeEmoji('hi 👋🏽 #1 ❤️ 好'))
    assert.are.equal('我爱你！', clean.removeEmoji('我爱你😀！'))
  end)
  it('strips HTML, URLs, symbols, punctuation, whitespace and boilerplate', function()
    assert.are.equal('\nHi\u{A0}there\n', clean.stripHTML('<p>Hi&nbsp;<b>there</b></p><script>x()</script>'))
    assert.are.equal('Tom & Jerry 😀', clean.decodeEntities('Tom &amp; Jerry &#x1F600;'))
    assert.are.equal('see <URL>. 访问<URL>页面', clean.replaceURLs('see https://x.org/a?b=1. 访问http://a.cn/b页面', '<URL>'))
    assert.are.equal(' top ', clean.removeSymbols('★ top ■', '★■'))
    assert.are.equal('wow! ok... 什么？', clean.squashPunctuation('wow!!!!! ok..... 什么？？？'))
    assert.are.equal('a b\n\nc', clean.collapseWhitespace('  a \t b\n\n\n\nc  '))
    assert.are.equal('a b c', clean.collapseWhitespace('a\n\nb c', {keepNewlines = false}))
    local t, n = clean.removeBoilerplate('Home | About | Blog\nReal text.\n© All rights reserved.')
    assert.are.equal('Real text.', t); assert.are.equal(2, n)
    t, n = clean.removeBoilerplate('keep me\nSPAM line', {patterns = {'spam'}, navigation = false})
    assert.are.equal('keep me', t); assert.are.equal(1, n)
  end)
  it('apply and the Cleaner stage share options; empty documents are dropped', function()
    local opts = {html = true, emoji = true, urls = 'mask', punctuation = 1, boilerplate = true}
    assert.are.equal('Hi there! see <URL>', clean.apply('<b>Hi</b> 👋  there!!! see http://x.y\nWe use cookies.', opts))
    local stage = clean.Cleaner(opts)
    assert.are.equal('clean', stage:name())
    local doc = stage:process{text = '<i>你好</i>😀', id = 'a', meta = {src = 'x'}}
    assert.are.equal('你好', doc.text); assert.are.equal('a', doc.id); assert.are.equal('x', doc.meta.src)
    local none, why = stage:process{text = '😀 \u{200B}', id = 'b'}
    assert.is_nil(none); assert.are.equal('clean: empty after cleaning', why)
    assert.are.equal('ｆｕｌｌ', clean.apply('ｆｕｌｌ', {normalize = false}))
  end)
  it('errors name the option and the choices', function()
    fails(function() return clean.Cleaner{emojis = true} end, "unknown option 'emojis'", "'emoji'")
    fails(function() return clean.Cleaner{urls = 'drop'} end, "Invalid 'urls'", "'keep', 'remove', 'mask'", "'drop'")
    fails(function() return clean.normalize('x', 'NFX') end, "Invalid 'form'", "'NFC', 'NFKC'")
    fails(function() return clean.Cleaner{normalize = 3} end, "Invalid 'normalize'")
    fails(function() return clean.Cleaner{boilerplate = {1}} end, "Invalid 'boilerplate'")
    fails(function() return clean.removeEmoji(42) end, 'string expected, got number')
    fails(function() return clean.squashPunctuation('x', 0) end, "Invalid 'maxRepeat'")
  end)
end)

describe('llm.data.pii', function()
  it('scrubs typed placeholders with counts (English and Chinese)', function()
    local t, c = pii.scrub('mail a@b.org, call (555) 123-4567, ip 10.0.0.1, card 4111 1111 1111 1111.')
    assert.are.equal('mail <EMAIL>, call <PHONE>, ip <IP>, card <CREDIT_CARD>.', t)
    assert.are.same({email = 1, phone = 1, ip = 1, creditCard = 1}, c)
    t, c = pii.scrub('手机13812345678，身份证11010519491231002X。')
    assert.are.equal('手机<PHONE>，身份证<CN_ID>。', t)
    assert.are.same({phone = 1, cnID = 1}, c)
    t, c = pii.scrub('a@b.org 13812345678', {kinds = {'phone'}})
    assert.are.equal('a@b.org <PHONE>', t)
  end)
  it('validators and the stage', function()
    assert.is_true(pii.luhn('4111 1111 1111 1111')); assert.is_false(pii.luhn('4111 1111 1111 1112'))
    assert.is_true(pii.chineseID('11010519491231002X')); assert.is_false(pii.chineseID('110105194912310021'))
    assert.is_true(pii.isIPv4('192.168.0.1')); assert.is_false(pii.isIPv4('300.1.1.1'))
    assert.is_true(pii.isIPv6('2001:db8::1')); assert.is_false(pii.isIPv6('12:30:45'))
    local doc = pii.Scrubber():process{text = 'x@y.com 😀', id = '1'}
    assert.are.equal('<EMAIL> 😀', doc.text); assert.are.equal('email=1', doc.meta.pii)
    fails(function() return pii.Scrubber{kinds = {'passport'}} end, "Invalid 'kinds'", "'passport'", "'email'")
  end)
end)

describe('llm.data.filters', function()
  it('segments CJK per character and reports script shares', function()
    assert.are.same({'我', '爱', 'NLP!', '😀'}, filters.words('我爱 NLP! 😀'))
    local s = filters.scripts('abc 中文')
    assert.is_true(math.abs(s.latin - 0.6) < 1e-9 and math.abs(s.cjk - 0.4) < 1e-9)
  end)
  it('check functions return ok, reason', function()
    assert.is_true((filters.gopherQuality(english)))
    assert.is_true((filters.gopherQuality(chinese)))
    local ok, why = filters.gopherQuality('a b c')
    assert.is_false(ok); assert.are.equal('gopher_quality: word count 3 < 50', why)
    ok, why = filters.gopherQuality('a b c', {minWords = 2, minMeanWordLength = 2})
    assert.are.equal('gopher_quality: mean word length 1 < 2', why)
    assert.is_true((filters.gopherRepetition(english)))
    ok, why = filters.gopherRepetition(('same line\n'):rep(5) .. 'x')
    assert.are.equal('gopher_repetition: duplicate line fraction 0.667 > 0.3', why)
    ok, why = filters.length('中文', {minWords = 3}); assert.are.equal('length: 2 words < 3', why)
    ok, why = filters.script('Привет мир'); assert.is_false(ok); assert.truthy(why:find('mostly cyrillic 1', 1, true))
    assert.is_true((filters.script(chinese, {allowed = {'cjk', 'latin'}})))
    ok, why = filters.badWords('Damn it', {words = {'damn'}}); assert.are.equal('bad_words: 1 hits > 0', why)
    assert.are.equal('One fine line.\n好的句子在这里。\nThree lines now!', filters.c4('One fine line.\nnav\n好的句子在这里。\nThree lines now!'))
    local none, reason = filters.c4('Only one line here.')
    assert.is_nil(none); assert.are.equal('c4: too few sentences 1 < 3', reason)
  end)
  it('stage constructors take the same options plus name', function()
    local st = filters.GopherQuality{minWords = 1, name = 'gq'}
    assert.are.equal('gq', st:name())
    local d, why = filters.Length{minChars = 10}:process{text = 'short', id = '1'}
    assert.is_nil(d); assert.are.equal('length: 5 chars < 10', why)
    assert.are.equal('A b c.\nD e f.\nG h i.', filters.C4():process{text = 'A b c.\nD e f.\nG h i.\nno', id = '2'}.text)
    assert.truthy(tostring(filters.GopherRepetition{topNGrams = {[2] = 0.5}}):find('gopherRepetition', 1, true))
    assert.truthy(filters.BadWords{words = {'坏话'}}:process{text = '没有', id = '3'})
  end)
  it('errors', function()
    fails(function() return filters.GopherQuality{minword = 3} end, "unknown option 'minword'", "'minWords'")
    fails(function() return filters.Script{allowed = {'klingon'}} end, "unknown script 'klingon'", "'latin'")
    fails(function() return filters.BadWords{} end, "Invalid 'words'")
    fails(function() return filters.GopherRepetition{dupNGrams = {[5] = 2}} end, "Invalid 'dupNGrams'")
    fails(function() return filters.c4(nil) end, 'string expected, got nil')
  end)
end)

-- Tests/Fixtures/html: each page's text and html.unescape cases from Python's html.parser, written by
-- scripts/reference/make_html_fixtures.py (which states the comparison rule).
describe('llm.data.clean against Python html.parser', function()
  local dir = (debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. '../Fixtures/html/'
  local function read(p) local h = assert(io.open(p, 'rb')); local s = h:read('a'); h:close(); return s end
  local ref = llm.json.decode(read(dir .. 'reference.json'))
  it('stripHTML gives the reference text of every corpus page', function()
    assert.is_true(#ref.pages >= 30)
    for _, page in ipairs(ref.pages) do
      assert.are.equal(page.text, clean.stripHTML(read(dir .. page.file)), page.file)
    end
  end)
  it('decodeEntities agrees with html.unescape (every HTML5 name, numeric edge cases)', function()
    for _, c in ipairs(ref.unescape) do
      assert.are.equal(c.output, clean.decodeEntities(c.input), c.input:sub(1, 60))
    end
    assert.are.equal('é ½ ¬it; € \u{FFFD} x>y', clean.stripHTML('&eacute &frac12; &notit; &#x80; &#0; <a title="a>b">x&gt;y</a>'))
    -- &nbsp; is U+00A0 (as in HTML5); the whitespace step of the full cleaner makes it a plain space
    assert.are.equal('Hi there', clean.apply('<p>Hi&nbsp;there</p>', {html = true}))
  end)
end)
