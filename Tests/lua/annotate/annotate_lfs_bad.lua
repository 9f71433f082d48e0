-- annotate_lfs_bad.lua: an LF module for annotate_spec whose LF fails on one document (in pool workers).
return {fragile = function(doc) if doc.text == 'boom' then error('cannot label this') end return 'ok' end}
