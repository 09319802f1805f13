// The todo list itself.

const PRIORITIES = ['low', 'normal', 'high'];

export class TodoStore {
  #todos = [];
  #next = 1;

  add(title, { priority = 'normal', due } = {}) {
    if (!title || !title.trim()) throw new Error('a todo needs a title');
    if (!PRIORITIES.includes(priority)) throw new Error(`unknown priority ${priority}`);
    const todo = { id: `t${this.#next++}`, title: title.trim(), done: false, priority, due: due ?? null };
    this.#todos.push(todo);
    return { ...todo };
  }

  complete(id) {
    const todo = this.#todos.find((t) => t.id === id);
    if (todo) todo.done = true;
  }

  remove(id) {
    const index = this.#todos.findIndex((t) => t.id === id);
    if (index === -1) throw new Error(`no todo ${id}`);
    this.#todos.splice(index, 1);
  }

  all() {
    return this.#todos.map((t) => ({ ...t }));
  }
}
