-- annotate_lfs.lua: a module of labelling functions for annotate_spec's parallel path (required in pool workers).
local ABSTAIN = annotate.ABSTAIN
return {
  annotate.lf('has_good', function(doc) return doc.text:find('good') and 'pos' or ABSTAIN end),
  annotate.lf('has_bad', function(doc) return doc.text:find('bad') and 'neg' or nil end),
  annotate.lf('exclaims', function(doc) return doc.text:find('!') and 'pos' or ABSTAIN end),
}
