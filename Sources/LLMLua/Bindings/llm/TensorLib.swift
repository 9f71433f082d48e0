// TensorLib: the `llm` namespace and the llm.Tensor type, assembled from the binding tables of each
// family (creation, info, math, shape, index, autograd). Methods are also exported as llm.<name>.
import CLua
import CLuaShim
import LLMCore

enum TensorLib: LuaLibrary {
    static let namespace = "llm"
    /// Plain functions (llm.zeros ...).
    static let functions: [LuaBinding] =
        TensorCreationBindings.functions + TensorShapeBindings.functions
        + TensorMathBindings.functions + TensorIndexBindings.functions + AutogradBindings.functions
        + SamplingBindings.functions + NNBindings.functions + SystemBindings.functions
    /// Tensor methods (t:sum() ...), each also available as llm.sum(t, ...).
    static let methods: [LuaBinding] =
        TensorInfoBindings.methods + TensorShapeBindings.methods
        + TensorMathBindings.methods + TensorIndexBindings.methods + AutogradBindings.methods
        + SamplingBindings.methods + NNBindings.methods
    /// Metamethods of llm.Tensor.
    static let metamethods: [LuaBinding] = TensorInfoBindings.metamethods + TensorMathBindings.metamethods

    static let classes = [
        LuaClass(Tensor.luaTypeName, methods: methods, metamethods: metamethods, methodsPath: "llm.Tensor"),
        LuaClass(Generator.luaTypeName, methods: SamplingBindings.generatorMethods)
    ]
}
