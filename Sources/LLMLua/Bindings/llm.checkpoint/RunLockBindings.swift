// Run-folder lock bindings: `llm.checkpoint.lock(dir)` takes the exclusive lock of a run folder
// (LLMFormats.RunFolderLock: flock on `<dir>/.lock`) and returns an llm.checkpoint.Lock; a second run on
// the same folder gets an error naming the folder and the holder's pid. `lock:removeStale()` deletes
// the leftovers of interrupted checkpoint writes, which only the lock holder may do. The lock is dropped
// by `lock:release()`, by `<close>`, by the garbage collector, and by the kernel when the process ends.
import CLua
import CLuaShim
import LLMFormats

extension RunFolderLock: LuaBridged { public static var luaTypeName: String { "llm.checkpoint.Lock" } }

enum RunLockBindings {
    static let functions: [LuaBinding] = [
        LuaBinding(
            "lock", "llm.checkpoint.lock(dir: string) -> llm.checkpoint.Lock",
            "Takes the exclusive lock of a run folder (created if missing); an error when another run holds it."
        ) { a in
            let dir = try a.path(1, .write)
            let lock = try RunFolderLock(dir: dir)
            Userdata.push(a.L, lock, typeName: RunFolderLock.luaTypeName)
            return 1
        }
    ]

    static let methods: [LuaBinding] = [
        LuaBinding("release", "lock:release()", "Drops the lock now (also done by <close>, garbage collection and process exit).") { a in
            try a.object(1, RunFolderLock.self).release(); return 0
        },
        LuaBinding("held", "lock:held() -> boolean", "True until the lock is released.") { a in
            a.push(try a.object(1, RunFolderLock.self).isHeld); return 1
        },
        LuaBinding("dir", "lock:dir() -> string", "The locked folder.") { a in
            a.push(try a.object(1, RunFolderLock.self).dir); return 1
        },
        LuaBinding(
            "removeStale", "lock:removeStale() -> {string}",
            "Removes leftovers of interrupted checkpoint writes (*.tmp-PID, *.deleting-PID; *.old-PID restored when its checkpoint is missing); returns their paths."
        ) { a in
            let lock = try a.object(1, RunFolderLock.self)
            let done = try lock.removeStaleTemporaries()
            lua_createtable(a.L, Int32(clamping: done.count), 0)
            for (i, p) in done.enumerated() { a.push(p); lua_rawseti(a.L, -2, lua_Integer(i + 1)) }
            return 1
        }
    ]

    static let metamethods: [LuaBinding] = [
        LuaBinding("__tostring", "tostring(lock) -> string", "The folder and whether the lock is held.") { a in
            let lock = try a.object(1, RunFolderLock.self)
            a.push("llm.checkpoint.Lock('\(lock.dir)'\(lock.isHeld ? "" : ", released"))"); return 1
        }
    ]
}
